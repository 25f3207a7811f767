"""Run a service app with uvicorn (uvloop + httptools), as each service's `__main__` does."""

import logging

import uvicorn
from fastapi import FastAPI


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def serve(app: FastAPI, *, host: str, port: int, log_level: str) -> None:
    configure_logging(log_level)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=3,
        # The peer is the client for per-source limits; X-Forwarded-For is read only from
        # AIGW_TRUSTED_PROXIES (aigw.common.client_address), never uvicorn's 127.0.0.1 default.
        proxy_headers=False,
    )
