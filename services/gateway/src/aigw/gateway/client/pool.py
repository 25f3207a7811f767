"""The pool of keep-alive provider connections; `Pool.request` is the one way in."""

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from aigw.gateway.client.addresses import PUBLIC_ONLY, AddressPolicy
from aigw.gateway.client.connection import Connection
from aigw.gateway.client.errors import AddressRefused, ConnectTimeout, UpstreamError
from aigw.gateway.client.origin import Origin, split_url
from aigw.gateway.client.response import Response

log = logging.getLogger(__name__)

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})
# Sent again on a new connection if a pooled one turns out closed (RFC 9110 §9.2.2); a POST
# only with an Idempotency-Key: the provider may have read it and started a (billed) answer.
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})


def _replayable(method: str, headers: Sequence[tuple[str, str]]) -> bool:
    return method in _IDEMPOTENT_METHODS or any(
        name.lower() == "idempotency-key" for name, _ in headers
    )


@dataclass
class Pool:
    """Keep-alive connections to the providers; `request` is the one way in."""

    limit: int = 100
    keepalive: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float | None = 60.0
    ssl_context: ssl.SSLContext | None = None
    addresses: AddressPolicy = PUBLIC_ONLY  # the gateway passes its settings' policy
    _idle: dict[Origin, list[Connection]] = field(default_factory=dict, init=False)
    _slots: asyncio.Semaphore | None = field(default=None, init=False)
    _open: set[Connection] = field(default_factory=set, init=False)
    _sweeper: asyncio.TimerHandle | None = field(default=None, init=False)
    # hosts already logged as refused: a route's every call would repeat it (the names come
    # from deployed endpoints, so the set stays as small as the routing table)
    _refused_hosts: set[str] = field(default_factory=set, init=False)

    async def request(
        self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> Response:
        """Send the request and wait for the answer's status and headers."""
        origin, target = split_url(url)
        head = [method.encode("latin-1"), b" ", target, b" HTTP/1.1\r\nhost: ", origin.host_header]
        for name, value in headers:
            head += [b"\r\n", name.encode("latin-1"), b": ", value.encode("latin-1")]
        if body or method not in _NO_BODY_METHODS:
            head += [b"\r\ncontent-length: ", str(len(body)).encode()]
        head += [b"\r\n\r\n", body]
        data = b"".join(head)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        await self._slots.acquire()
        try:
            return await self._exchange(origin, method, headers, data)
        except BaseException:
            self._slots.release()
            raise

    async def _exchange(
        self, origin: Origin, method: str, headers: Sequence[tuple[str, str]], data: bytes
    ) -> Response:
        conn = self._idle_connection(origin) or await self._connect(origin)
        while True:
            conn.send(method == "HEAD", data)
            try:
                while not conn.headers_done:
                    await conn.wait()
            except UpstreamError:
                self._discard(conn)
                if conn.reused and not conn.received_any and _replayable(method, headers):
                    # the provider closed it while it was idle: once more, on a new connection
                    conn = await self._connect(origin)
                    continue
                raise
            except BaseException:
                self._discard(conn)
                raise
            return Response(conn)

    def _idle_connection(self, origin: Origin) -> Connection | None:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if self._fresh(conn, time.monotonic()):
                conn.reused = True
                return conn
            self._discard(conn)
        return None

    def _fresh(self, conn: Connection, now: float) -> bool:
        transport = conn.transport
        closing = transport is None or transport.is_closing()
        return not (conn.closed or closing) and now - conn.idle_since < self.keepalive

    def _sweep(self) -> None:
        """Close the connections idle for longer than `keepalive` (or closed by the provider);
        runs every `keepalive` seconds while any connection is idle."""
        self._sweeper = None
        now = time.monotonic()
        for origin, idle in list(self._idle.items()):
            keep = []
            for conn in idle:
                if self._fresh(conn, now):
                    keep.append(conn)
                else:
                    self._discard(conn)
            if keep:
                self._idle[origin] = keep
            else:
                del self._idle[origin]
        self._arm_sweep()

    def _arm_sweep(self) -> None:
        if self._sweeper is None and self._idle:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_later(self.keepalive, self._sweep)

    async def _connect(self, origin: Origin) -> Connection:
        loop = asyncio.get_running_loop()
        secure = origin.scheme == "https"
        if secure and self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()  # once: it loads the CA bundle
        context = self.ssl_context if secure else None
        try:
            async with asyncio.timeout(self.connect_timeout):
                if self.addresses.anywhere:
                    hosts = [origin.host]  # the loop resolves it as it connects
                else:
                    hosts = await self._allowed_addresses(loop, origin)
                conn = await self._open_first(loop, origin, hosts, context)
        except TimeoutError:
            raise ConnectTimeout(
                f"no connection to the provider within {self.connect_timeout} s"
            ) from None
        except OSError as exc:
            raise UpstreamError(f"cannot connect to the provider: {exc!r}") from exc
        self._open.add(conn)
        return conn

    async def _allowed_addresses(
        self, loop: asyncio.AbstractEventLoop, origin: Origin
    ) -> list[str]:
        """The addresses `origin.host` resolves to that the policy allows, in the resolver's
        order; AddressRefused if there are none. A literal address resolves to itself, and
        inet_aton's spellings (2130706433, 127.1) to the address they spell."""
        infos = await loop.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed, refused = [], []
        for address in addresses:
            kind = self.addresses.refusal(address)
            if kind is None:
                allowed.append(address)
            else:
                refused.append(f"{address} ({kind})")
        if refused and origin.host not in self._refused_hosts:
            self._refused_hosts.add(origin.host)
            log.warning(
                "provider host %s resolves to %s, which the gateway does not connect to outside "
                "dev mode unless GATEWAY_UPSTREAM_ALLOWED_NETWORKS covers it%s",
                origin.host,
                ", ".join(refused),
                f"; using {', '.join(allowed)}" if allowed else "; its calls are refused",
            )
        if not allowed:
            raise AddressRefused(
                f"the gateway may not connect to {origin.host}: {', '.join(refused)}"
            )
        return allowed

    async def _open_first(
        self,
        loop: asyncio.AbstractEventLoop,
        origin: Origin,
        hosts: list[str],
        context: ssl.SSLContext | None,
    ) -> Connection:
        """A connection to the first of `hosts` that accepts one; TLS verifies `origin.host`
        whichever address it reached."""
        error: OSError | None = None
        for host in hosts:
            try:
                _, conn = await loop.create_connection(
                    lambda: Connection(self, origin),
                    host,
                    origin.port,
                    ssl=context,
                    server_hostname=origin.host if context is not None else None,
                )
                return conn
            except OSError as exc:
                error = exc
        assert error is not None
        raise error

    def give_back(self, conn: Connection) -> None:
        assert self._slots is not None
        self._slots.release()
        if conn.reusable():
            conn.idle_since = time.monotonic()
            self._idle.setdefault(conn.origin, []).append(conn)
            self._arm_sweep()
        else:
            self._discard(conn)

    def _discard(self, conn: Connection) -> None:
        conn.close()
        self._open.discard(conn)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports close
