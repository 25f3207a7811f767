"""Run a service app with uvicorn (uvloop + httptools), as each service's `__main__` does."""

import json
import logging
from http import HTTPStatus

import uvicorn
from fastapi import FastAPI

from aigw.common.errors import error_body
from aigw.common.http_limits import Refusal, WireLimits, limited_http_protocol


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def management_error(refusal: Refusal) -> bytes:
    """A refused request head in the management error shape."""
    message = HTTPStatus(refusal.status).phrase.capitalize()
    return json.dumps(error_body(refusal.status, message, refusal.message)).encode()


def serve(app: FastAPI, *, host: str, port: int, log_level: str, limits: WireLimits) -> None:
    configure_logging(log_level)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=limited_http_protocol(limits, management_error),
        log_level=log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=3,
        # The peer is the client for per-source limits; X-Forwarded-For is read only from
        # AIGW_TRUSTED_PROXIES (aigw.common.client_address), never uvicorn's 127.0.0.1 default.
        proxy_headers=False,
    )
