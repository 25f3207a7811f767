"""MongoDB wiring: one `AsyncMongoClient` per service process, one database per service, and
what a service does when its store is unreachable.

The client gives up on an unreachable store after `timeout_ms` (server selection and connect,
`MONGODB_TIMEOUT_MS`, 1 s by default) rather than pymongo's 30 s, so a management call answers
503 (`aigw.common.errors`, `store_unavailable`) within about a second; a store that accepts
connections but stops answering is given up on after `SOCKET_TIMEOUT_MS`. The client reconnects
by itself when the store is back: nothing to restart. Readiness reads `StoreWatch`, a ping in
the background, so `/health/ready` never waits on the store."""

import asyncio
import contextlib
import logging
from typing import Any

import pymongo
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, PyMongoError

from aigw.common.errors import StoreUnavailable, service_error_response, unexpected_error_response

log = logging.getLogger(__name__)

Document = dict[str, Any]  # untyped: a raw document, a query, or an update
# An update document ($set, $unset, $inc, $push ...): dotted paths, so untyped too.
Update = Document

DEFAULT_TIMEOUT_MS = 1000
# An answer on an open connection may take this long (a usage report over many records), no
# longer: a store that hangs (rather than going away) is given up on after it.
SOCKET_TIMEOUT_MS = 20_000


def merged(*updates: Update) -> Update:
    """One update document doing what each of `updates` does (their operators' fields merged:
    a change's own `$push` and the outbox's, say)."""
    result: Update = {}
    for update in updates:
        for operator, fields in update.items():
            result[operator] = {**result.get(operator, {}), **fields}
    return result


def create_client(url: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=SOCKET_TIMEOUT_MS,
        tz_aware=True,
        uuidRepresentation="standard",
    )


def store_unreachable(exc: BaseException) -> bool:
    """Whether a pymongo error means the store could not be reached or did not answer in
    time (ServerSelectionTimeoutError, AutoReconnect, NetworkTimeout, any ConnectionFailure,
    an operation timing out), as opposed to the store refusing the operation."""
    return isinstance(exc, ConnectionFailure) or (
        isinstance(exc, PyMongoError) and bool(getattr(exc, "timeout", False))
    )


def add_store_error_handler(app: FastAPI) -> None:
    """A store that cannot be reached answers 503 with Retry-After (StoreUnavailable), at
    once; any other store error is an unexpected 500."""

    @app.exception_handler(PyMongoError)
    async def _store_error(_: Request, exc: PyMongoError) -> JSONResponse:
        if not store_unreachable(exc):
            return unexpected_error_response(exc)
        log.warning("store unreachable, answered 503: %s", exc)
        return service_error_response(StoreUnavailable())


async def ping(db: AsyncDatabase[Document], timeout: float | None = None) -> bool:
    try:
        with pymongo.timeout(timeout):
            await db.command("ping")
    except PyMongoError:
        return False
    return True


class StoreWatch:
    """Pings the store every `interval` seconds in the background: `up` is the last answer,
    read by readiness at once. Starts up (the service's start-up has just used the store)."""

    def __init__(
        self, db: AsyncDatabase[Document], *, interval: float = 0.5, timeout: float = 1.0
    ) -> None:
        self._db = db
        self._interval = interval
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self.up = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="store-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            up = await ping(self._db, self._timeout)
            if up != self.up:
                log.warning("the store is %s", "back" if up else "unreachable")
            self.up = up
            await asyncio.sleep(self._interval)  # the interval between pings: time passing
