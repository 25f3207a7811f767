"""Which address a request comes from, for the per-source limits (login, sign-up).

It is the TCP peer the service sees. Behind a reverse proxy or load balancer that is the
proxy, so every client behind it shares one budget, unless the proxy's addresses are listed
in `AIGW_TRUSTED_PROXIES`: then `X-Forwarded-For` is read from the right, skipping trusted
hops, and the first address that is not trusted is the client. From any other peer the
header is ignored, since the caller writes it. (uvicorn's own proxy-header rewriting is off,
see `aigw.common.serve`, so the peer is the real one.)

IPv6 clients are counted per /64, the block one subscriber is usually given.
"""

import ipaddress
from collections.abc import Sequence

from fastapi import Request

from aigw.common.addresses import IPAddress, IPNetwork

FORWARDED_FOR = "x-forwarded-for"


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: IPAddress | None, trusted: Sequence[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in trusted)


def source_key(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_source(request: Request, trusted: Sequence[IPNetwork] = ()) -> str:
    """The client's address as a budget key (see the module docstring)."""
    peer = request.client.host if request.client is not None else ""
    client = _address(peer)
    if client is None:
        return peer or "unknown"  # not an IP peer (a unix socket, a test client): as is
    if _trusted(client, trusted):
        hops = ",".join(request.headers.getlist(FORWARDED_FOR)).split(",")
        for hop in reversed([h for h in hops if h.strip()]):
            address = _address(hop)
            if address is None:
                break  # a garbled chain: stop at the last hop we could trust
            client = address
            if not _trusted(address, trusted):
                break
    return source_key(client)
