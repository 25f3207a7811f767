"""What `python -m aigw.gateway` runs: serve HTTP on GATEWAY_PORT and, when a certificate is configured,
HTTPS on GATEWAY_HTTPS_PORT, as two uvicorn servers in one event loop sharing one app.

With GATEWAY_WORKERS=n, n worker processes serve the same ports (SO_REUSEPORT: the kernel spreads
connections). Each worker has its own routing table and is a peer in the quota exchange over
NATS, exactly like separate gateway processes, so they share one quota.
"""

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
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


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `serve` (it stops both servers)."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


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
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=3,
        **extra,
    )


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket that sibling workers may bind too."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    # one protocol class for both listeners: GATEWAY_MAX_CONNECTIONS counts them together
    protocol = limited_http_protocol(wire_limits(settings), _openai_error)
    servers = [_Server(_config(app, settings, settings.port, protocol))]
    if settings.tls_enabled:
        servers.append(
            _Server(
                _config(
                    app,
                    settings,
                    settings.https_port,
                    protocol,
                    lifespan="off",  # the HTTP server owns the app's lifespan
                    ssl_certfile=settings.tls_cert_file,
                    ssl_keyfile=settings.tls_key_file,
                )
            )
        )

    def stop() -> None:
        for server in servers:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    if settings.workers == 1:
        await asyncio.gather(*(server.serve() for server in servers))
        return
    sockets = [_listen(settings.host, s.config.port) for s in servers]
    await asyncio.gather(
        *(srv.serve(sockets=[sock]) for srv, sock in zip(servers, sockets, strict=True))
    )


def _run_worker(index: int) -> None:
    settings = load_settings(Settings)
    if "GATEWAY_NAME" in os.environ:  # an explicit name: keep the workers apart
        settings = settings.model_copy(update={"gateway_name": f"{settings.gateway_name}-w{index}"})
    _run(settings)


def _run(settings: Settings) -> None:
    configure_logging(settings.log_level)
    import uvloop

    uvloop.run(serve(settings))


def _supervise(workers: int) -> None:
    """Start the workers and pass SIGINT/SIGTERM on; exit when they all have."""
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_run_worker, args=(i,)) for i in range(workers)]
    for child in children:
        child.start()

    def forward(signum: int, _: object) -> None:
        for child in children:
            if child.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    for child in children:
        child.join()


def main() -> None:
    settings = load_settings(Settings)
    if settings.workers > 1:
        _supervise(settings.workers)
    else:
        _run(settings)
