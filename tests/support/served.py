"""An ASGI app served by uvicorn on a thread of the test process, on a real socket: for tests
whose client is blocking or runs its own event loop (schemathesis, the official SDKs), while
the app keeps its lifespan and its loop-bound clients on one loop of its own."""

import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import uvicorn

from aigw.devtools.processes import free_port
from tests.support.waiting import eventually_sync


@dataclass
class Served:
    """A served app's address and the headers that sign a test in to it."""

    url: str
    headers: dict[str, str]


class ThreadServer:
    """`with ThreadServer(app) as server:` serves `app` at `server.url` until the block ends;
    `options`: more of uvicorn's configuration (loop, http, lifespan, ...)."""

    def __init__(self, app: Any, **options: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, **{"log_level": "warning", **options}
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _started(self) -> bool:
        assert self._thread.is_alive() or self._server.started, "the app failed to start"
        return self._server.started

    def __enter__(self) -> Self:
        self._thread.start()
        eventually_sync(self._started, timeout=30, interval=0.01, what="the app listening")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
