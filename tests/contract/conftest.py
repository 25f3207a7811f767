"""Each service's real app, served by uvicorn on a thread of this process over the session's
real NATS and store. A served app (rather than schemathesis' ASGI client) keeps the app's
lifespan and its loop-bound Mongo and NATS clients on one event loop for the whole module."""

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.served import ThreadServer


@pytest.fixture(scope="module")
def serve() -> Iterator[Any]:
    """serve(app) -> base URL; every app started this way stops with the module."""
    with contextlib.ExitStack() as servers:
        yield lambda app: servers.enter_context(ThreadServer(app)).url
