"""What `python -m aigw.gateway` runs: serve HTTP on GATEWAY_PORT and, when a certificate is configured,
HTTPS on GATEWAY_HTTPS_PORT, as two uvicorn servers in one event loop sharing one app.

Every listener is opened with SO_REUSEPORT, so several gateway processes may serve one port
(the kernel spreads new connections over them): the workers of GATEWAY_WORKERS=n
(`aigw.gateway.supervisor` starts and restarts them), or a new gateway started beside an old
one in a rolling restart. Each has its own routing table and is a peer in the quota exchange
over NATS, so they share one quota.

When the port opens. A gateway alone on its port opens it at once: `/health/ready` and the
replay's progress on `/metrics` answer, and a call before the replay is done is a 503 with
`Retry-After` (where it would otherwise be refused). A gateway that joins a port another one
already serves (a sibling worker, the next process of a rolling restart) opens it only once
its table has replayed: the kernel hands a new connection to any listener of the port, so one
that listens before it can route would fail the calls it is given while the others could have
served them.

SIGTERM drains: readiness goes false at once, the gateway keeps serving for
GATEWAY_DRAIN_SECONDS with `Connection: close` on every answer (a load balancer notices, and
keep-alive clients reconnect, to the other gateways), then closes its listeners, waits up to
GATEWAY_DRAIN_TIMEOUT for the calls and streams in flight, flushes its usage records and exits
0. A second SIGINT (Ctrl-C twice) cuts the waits short.
"""

import asyncio
import contextlib
import errno
import logging
import math
import signal
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from aigw.common.http_limits import (
    LimitedHttpToolsProtocol,
    Refusal,
    limited_http_protocol,
    wire_limits,
)
from aigw.common.serve import configure_logging
from aigw.common.startup import load_settings
from aigw.gateway.app import Gateway, create_app
from aigw.gateway.errors import error_body
from aigw.gateway.settings import Settings
from aigw.gateway.workers import WorkerBoard

log = logging.getLogger("aigw.gateway.server")

FIRST_REQUEST_WAIT = 1.0  # seconds a connection accepted just before the close has to send


def _openai_error(refusal: Refusal) -> bytes:
    return error_body(refusal.status, refusal.message, refusal.code)


def _config(
    app: Gateway,
    settings: Settings,
    port: int,
    protocol: type[LimitedHttpToolsProtocol],
    **extra: Any,
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        loop="uvloop",
        http=protocol,
        lifespan="off",  # `serve` runs the app's lifespan around the listeners
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=math.ceil(settings.drain_timeout),
        **extra,
    )


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket that other gateway processes may bind too."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def port_served(host: str, port: int) -> bool:
    """Whether some process already listens on `port` (a bind that does not share it fails)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


class _Listener:
    """One uvicorn server on its own SO_REUSEPORT socket, opened and closed by `serve`.

    Closing a listening socket resets the connections the kernel has queued on it but nobody
    accepted yet, and with SO_REUSEPORT new connections keep arriving until the close. So
    uvicorn is given a duplicate of the socket: when it stops accepting (closing its copy),
    ours keeps the socket listening while `close` accepts what is queued, hands those
    connections to the server and only then closes it. What remains is the few microseconds
    between that last accept and the close (none with Linux's net.ipv4.tcp_migrate_req=1,
    which moves them to a sibling listener).
    """

    def __init__(self, config: uvicorn.Config) -> None:
        self.server = uvicorn.Server(config)
        self._socket: socket.socket | None = None
        self._ticks: asyncio.Task[None] | None = None

    async def open(self) -> None:
        config = self.server.config
        config.load()
        self.server.lifespan = config.lifespan_class(config)
        self._socket = _listen(config.host, config.port)
        await self.server.startup(sockets=[self._socket.dup()])
        self._ticks = asyncio.create_task(self.server.main_loop(), name="gateway-server-ticks")

    async def close(self, force: bool) -> None:
        """Stop accepting, let what is in flight finish (bounded by the drain timeout)."""
        if self._ticks is None or self._socket is None:
            return
        self.server.should_exit = True
        self.server.force_exit = force
        await self._ticks
        for server in self.server.servers:
            server.close()  # uvicorn's copy: it accepts no more
        await self._adopt(_accept_queued(self._socket))
        if not force:
            await self._await_first_requests()
        await self.server.shutdown()

    async def _await_first_requests(self) -> None:
        """Until every connection accepted at the last moment has sent its request (uvicorn's
        shutdown closes a connection without a request in progress at once, and the client's
        request, already on its way, would fail), for at most a second."""
        deadline = time.monotonic() + FIRST_REQUEST_WAIT
        while time.monotonic() < deadline and any(
            getattr(connection, "cycle", None) is None
            for connection in self.server.server_state.connections
        ):
            await asyncio.sleep(0.01)

    async def _adopt(self, connections: list[socket.socket]) -> None:
        """Serve connections accepted outside the server, as the server would have."""
        if not connections:
            return
        config, loop = self.server.config, asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server.server_state,
                app_state=self.server.lifespan.state,
                _loop=loop,
            )

        adopted = [loop.connect_accepted_socket(protocol, c, ssl=config.ssl) for c in connections]
        for outcome in await asyncio.gather(*adopted, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.debug("a connection queued at close could not be served: %s", outcome)
        log.info("served %d connection(s) queued when the port closed", len(connections))


def _accept_queued(listening: socket.socket) -> list[socket.socket]:
    """Every connection queued on `listening`, which is closed right after the last."""
    listening.setblocking(False)
    queued: list[socket.socket] = []
    try:
        while True:
            try:
                connection, _ = listening.accept()
            except (BlockingIOError, InterruptedError):
                return queued
            queued.append(connection)
    finally:
        listening.close()


class _Signals:
    """SIGTERM or SIGINT start the drain; a second SIGINT makes it quick (SIGTERM repeats: a
    process group's signal reaches a worker directly and through its supervisor)."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.hurry = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: int) -> None:
        if sig == signal.SIGINT and self.stop.is_set():
            self.hurry.set()
        self.stop.set()


async def _first(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def _lifespan(app: Gateway) -> AsyncIterator[None]:
    async with app.management.router.lifespan_context(app.management):
        yield


async def serve(settings: Settings, board: WorkerBoard | None = None) -> None:
    """Serve until SIGTERM, then drain; `board`: the worker's slots (GATEWAY_WORKERS > 1)."""
    app = create_app(settings, board)
    # one protocol class for both listeners: GATEWAY_MAX_CONNECTIONS counts them together
    protocol = limited_http_protocol(wire_limits(settings), _openai_error)
    listeners = [_Listener(_config(app, settings, settings.port, protocol))]
    if settings.tls_enabled:
        listeners.append(
            _Listener(
                _config(
                    app,
                    settings,
                    settings.https_port,
                    protocol,
                    ssl_certfile=settings.tls_cert_file,
                    ssl_keyfile=settings.tls_key_file,
                )
            )
        )
    signals = _Signals()
    ports = [listener.server.config.port for listener in listeners]
    alone = board is None and not any(port_served(settings.host, port) for port in ports)
    async with _lifespan(app):
        if alone:
            await _open(listeners)
        await _first(app.wait_replayed(), signals.stop.wait())
        if not signals.stop.is_set():
            if not alone:
                await _open(listeners)
            app.board.mark(True)
            log.info("serving on port(s) %s: the routing table has replayed", ports)
            await signals.stop.wait()
            await _drain(app, settings, signals)
        for listener in listeners:
            await listener.close(force=signals.hurry.is_set())
        log.info("drained; flushing usage records and stopping")
    # leaving the lifespan flushed the usage records and the access log


async def _open(listeners: list[_Listener]) -> None:
    for listener in listeners:
        await listener.open()


async def _drain(app: Gateway, settings: Settings, signals: _Signals) -> None:
    """Readiness off, `Connection: close` on every answer, for the grace period."""
    app.draining = True
    app.board.mark(False)
    log.info(
        "draining: /health/ready answers 503; serving %.1f s more before closing the port",
        settings.drain_seconds,
    )
    # time passing is the point: a load balancer's health checks need it to notice
    await _first(asyncio.sleep(settings.drain_seconds), signals.hurry.wait())


def run(settings: Settings, board: WorkerBoard | None = None) -> None:
    configure_logging(settings.log_level)
    import uvloop

    uvloop.run(serve(settings, board))


def main() -> None:
    settings = load_settings(Settings)
    if settings.workers > 1:
        from aigw.gateway.supervisor import Supervisor

        raise SystemExit(Supervisor(settings.workers, settings.log_level).run())
    run(settings)
