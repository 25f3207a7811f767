"""`python -m aigw.gateway`: serve HTTP on GATEWAY_PORT and, when a certificate is configured,
HTTPS on GATEWAY_HTTPS_PORT, as two uvicorn servers in one event loop sharing one app."""

import asyncio
import contextlib
import signal
from typing import Any

import uvicorn

from aigw.common.serve import configure_logging
from aigw.common.startup import load_settings
from aigw.gateway.app import Gateway, create_app
from aigw.gateway.settings import Settings


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to `serve` (it stops both servers)."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


def _config(app: Gateway, settings: Settings, port: int, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=3,
        **extra,
    )


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    servers = [_Server(_config(app, settings, settings.port))]
    if settings.tls_enabled:
        servers.append(
            _Server(
                _config(
                    app,
                    settings,
                    settings.https_port,
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
    await asyncio.gather(*(server.serve() for server in servers))


def main() -> None:
    settings = load_settings(Settings)
    configure_logging(settings.log_level)
    import uvloop

    uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
