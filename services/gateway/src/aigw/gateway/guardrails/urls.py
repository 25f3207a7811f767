"""URL_GUARDRAIL: every URL in the text must resolve within `timeout` ms: a DNS lookup
(`onlyDNS`, the loop's getaddrinfo: in a thread, never blocking the loop) or a TCP connection
attempt to the URL's host and port. Results are remembered briefly (a bounded map shared by
the gateway's URL guardrails), so a popular link is looked up once a minute, not per call.

A URL counts as valid only if its host resolves to addresses the gateway's address policy
allows (public ones, outside dev mode), and the connection goes to such an address: a
caller's text must not turn the gateway into a port scanner of its own network. At most
`MAX_LOOKUPS` lookups run at once, so texts full of slow names cannot take the threads the
provider connections resolve with."""

import asyncio
import re
import socket
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from aigw.common.guardrails import UrlParams
from aigw.gateway.client import PUBLIC_ONLY, AddressPolicy
from aigw.gateway.guardrails.checks import Verdict

_URL = re.compile(r"https?://[^\s<>\"'`)\]}]+", re.IGNORECASE)
MAX_URLS = 32  # distinct hosts per text; more intervenes (a text cannot make us dial hundreds)
Host = tuple[str, int, bool]  # host, port, DNS only


MAX_LOOKUPS = 4


class Resolutions:
    """Recent lookups' outcomes, bounded (least recently used go first), and the bound on
    lookups in flight."""

    def __init__(self, ttl: float = 60.0, size: int = 4_096) -> None:
        self.ttl, self.size = ttl, size
        self._known: OrderedDict[Host, tuple[bool, float]] = OrderedDict()
        self.lookups = asyncio.Semaphore(MAX_LOOKUPS)

    def get(self, host: Host) -> bool | None:
        known = self._known.get(host)
        if known is None or known[1] < time.monotonic():
            return None
        self._known.move_to_end(host)
        return known[0]

    def put(self, host: Host, ok: bool) -> None:
        self._known[host] = (ok, time.monotonic() + self.ttl)
        self._known.move_to_end(host)
        while len(self._known) > self.size:
            self._known.popitem(last=False)


def hosts_of(text: str, only_dns: bool) -> dict[Host, str] | None:
    """Each distinct host of the text's URLs and one URL naming it; None if a URL is
    malformed."""
    hosts: dict[Host, str] = {}
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            return None
        if not parts.hostname:
            return None
        hosts.setdefault((parts.hostname, port, only_dns), url)
    return hosts


class UrlCheck:
    def __init__(
        self, params: UrlParams, resolutions: Resolutions, addresses: AddressPolicy = PUBLIC_ONLY
    ) -> None:
        self.only_dns, self.timeout = params.only_dns, params.timeout / 1000
        self.resolutions, self.addresses = resolutions, addresses

    async def judge(self, text: str) -> Verdict | None:
        hosts = hosts_of(text, self.only_dns)
        if hosts is None:
            return Verdict("Violation of url validity detected.", ["A URL is malformed."])
        if len(hosts) > MAX_URLS:
            return Verdict("Violation of url validity detected.", [f"More than {MAX_URLS} hosts."])
        results = await asyncio.gather(*(self._resolves(host) for host in hosts))
        invalid = [url for (host, url), ok in zip(hosts.items(), results, strict=True) if not ok]
        if not invalid:
            return None
        return Verdict("Violation of url validity detected.", {"invalidUrls": invalid})

    async def _resolves(self, host: Host) -> bool:
        known = self.resolutions.get(host)
        if known is not None:
            return known
        try:
            async with asyncio.timeout(self.timeout):
                ok = await self._attempt(host)
        except (OSError, TimeoutError, UnicodeError):
            ok = False
        self.resolutions.put(host, ok)
        return ok

    async def _attempt(self, host: Host) -> bool:
        name, port, only_dns = host
        async with self.resolutions.lookups:
            found = await asyncio.get_running_loop().getaddrinfo(
                name, port, type=socket.SOCK_STREAM
            )
        addresses = [str(info[4][0]) for info in found]
        if not addresses or not all(self._allowed(address) for address in addresses):
            return False
        if not only_dns:
            _, writer = await asyncio.open_connection(addresses[0], port)
            writer.close()
        return True

    def _allowed(self, address: str) -> bool:
        return self.addresses.anywhere or self.addresses.refusal(address) is None
