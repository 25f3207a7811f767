"""Abandoning the provider call when the client disconnects."""

import asyncio

from aigw.gateway.asgi import Message, Receive


class DisconnectWatch:
    """While `active`, cancels the request's task as soon as the client disconnects.

    It waits on `receive()` (the request body has been read, so the next message is
    `http.disconnect`) for the whole provider call: sending the request, waiting for the
    answer, reading or relaying it. Cancelling the task aborts the upstream request or read, which
    closes the upstream connection. The cancellation surfaces at the await the task is
    suspended at, always inside the watched code (the callback checks `active`, and that is
    cleared synchronously before the watched code ends).
    """

    __slots__ = ("_absorbed", "_task", "_watcher", "active", "gone")

    def __init__(self, receive: Receive) -> None:
        self.active = True
        self.gone = False
        self._absorbed = False
        self._task = asyncio.current_task()
        self._watcher = asyncio.ensure_future(receive())
        self._watcher.add_done_callback(self._done)

    def _done(self, watcher: asyncio.Future[Message]) -> None:
        if (
            self.active
            and not watcher.cancelled()
            and watcher.exception() is None
            and watcher.result().get("type") == "http.disconnect"
        ):
            self.gone = True
            if self._task is not None:
                self._task.cancel()

    def stop(self) -> None:
        self.active = False
        self._watcher.cancel()

    def absorb(self) -> bool:
        """True if the client left and no one else cancelled the task; this watch's own
        cancellation is then withdrawn (once), so the handler may finish normally."""
        if not self.gone or self._task is None:
            return False
        if not self._absorbed:
            self._absorbed = True
            return self._task.uncancel() == 0
        return self._task.cancelling() == 0
