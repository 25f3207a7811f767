"""Each service's real app, served by uvicorn on a thread of this process over the session's
real NATS and store. A served app (rather than schemathesis' ASGI client) keeps the app's
lifespan and its loop-bound Mongo and NATS clients on one event loop for the whole module."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Self

import httpx
import pytest
import uvicorn

from aigw.devtools.processes import free_port


@dataclass
class Served:
    url: str
    headers: dict[str, str]


class ThreadServer:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert self._thread.is_alive(), "the app failed to start"
            assert time.monotonic() < deadline, "the app did not start within 30 s"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


@pytest.fixture(scope="module")
def serve() -> Iterator[Any]:
    """serve(app) -> base URL; every app started this way stops with the module."""
    servers: list[ThreadServer] = []

    def start(app: Any) -> str:
        server = ThreadServer(app).__enter__()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.__exit__()


def keymanager_login(url: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{url}/api/keymanager/v1/auth/login", json={"username": "admin", "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
