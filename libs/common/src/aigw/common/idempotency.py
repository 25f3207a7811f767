"""Idempotency keys on creating POSTs (`Idempotency-Key`): a client that lost the answer to a
request retries it with the same key and gets the first answer again (same status and body,
`Idempotent-Replayed: true`) instead of a second revision, API or key.

A key is the caller's own: records are kept per caller (`_id` = hash of caller and key) in the
service's `idempotency_keys` collection for `TTL` (24 h, a TTL index). The same key with
another request (method, path or body) is a 409 naming the conflict; while the first request
with a key is still running, a second one waits for its answer (up to `WAIT`), then is a 409
with Retry-After.

The key is never separable from what the request wrote: the use case writes the key's `mark`
(a token) on the same single-document write as its change (a deploy pushes it onto the API's
`deploy_marks`), so the store holds either both or neither. The record here is claimed before
the change and filled with the answer after it; if the process dies (or the store goes away)
between the change and the answer, a retry after the claim's `LEASE` finds the mark with
`recover` and answers from it, or, finding none, knows the change never happened and makes it.
The bound: a first request that stalls for longer than `LEASE` between its claim and its write
could be made twice.
"""

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, NotRequired, TypedDict, cast

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from aigw.common.errors import Conflict, ErrorBody, ServiceError
from aigw.common.ids import utcnow_ms
from aigw.common.mongo import Document

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
COLLECTION = "idempotency_keys"
TTL = timedelta(hours=24)
LEASE = timedelta(seconds=30)  # a claim older than this whose answer is missing is recovered
WAIT = 5.0  # seconds a request waits for the answer of the same key's request in flight
_POLL = 0.05
KEY_PATTERN = r"^[A-Za-z0-9._:+=@/-]{1,128}$"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        pattern=KEY_PATTERN,
        description=(
            "Makes a retry of this request safe: the same key with the same request (from the "
            "same caller, within 24 h) answers the first answer again, with "
            "`Idempotent-Replayed: true`, and changes nothing; with another request it is a "
            "409. 1-128 characters of letters, digits and `._:+=@/-` (a UUID, say); "
            "anything else is a 422"
        ),
    ),
]

IDEMPOTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorBody,
        "description": (
            "Conflicts with the resource's current state, or the Idempotency-Key was used for "
            "another request (or its first request is still running: retry after Retry-After)"
        ),
    }
}


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request answered: its status and its JSON body, replayed as they were."""

    status: int
    body: Any

    def response(self, *, replayed: bool) -> JSONResponse:
        headers = {REPLAYED: "true"} if replayed else None
        return JSONResponse(self.body, status_code=self.status, headers=headers)


# The use case, given the mark to write with its change (None without a key)
Act = Callable[[str | None], Awaitable[Answer]]
# The answer the change written with this mark made, None if no change carries it
Recover = Callable[[str], Awaitable[Answer | None]]


class KeyRecord(TypedDict):
    _id: str  # the mark: hash of caller and key
    caller: str
    fingerprint: str  # hash of method, path and body
    state: Literal["pending", "done"]
    lease_until: datetime
    expires_at: datetime
    status: NotRequired[int]
    body: NotRequired[Any]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request a key was used for; a JSON body counts by its value, not its spacing."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("latin-1")
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


class InProgress(Conflict):
    def __init__(self, key: str, *, retry_after: int = 1) -> None:
        super().__init__(
            f"A request with Idempotency-Key '{key}' is still in progress; "
            "retry after Retry-After to get its answer"
        )
        self.headers = {"Retry-After": str(retry_after)}


class IdempotencyStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = cast("AsyncCollection[KeyRecord]", db[COLLECTION])

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("expires_at", expireAfterSeconds=0, name="expiry")

    async def answer(
        self, request: Request, caller: str, key: str | None, act: Act, recover: Recover
    ) -> JSONResponse:
        """The request's answer: made by `act` once per caller's key, replayed after."""
        if key is None:
            return (await act(None)).response(replayed=False)
        sent = fingerprint(request.method, request.url.path, await request.body())
        mark = hashlib.sha256(f"{caller}\0{key}".encode()).hexdigest()
        replay = await self._claim(mark, caller, key, sent, recover)
        if replay is not None:
            return replay.response(replayed=True)
        try:
            answer = await act(mark)
        except ServiceError:  # refused, so nothing was written: the key may be used again
            await self._coll.delete_one({"_id": mark, "state": "pending"})
            raise
        except BaseException:  # the write may have happened: a retry recovers by the mark
            with contextlib.suppress(PyMongoError):
                await self._coll.update_one({"_id": mark}, {"$set": {"lease_until": utcnow_ms()}})
            raise
        await self._finish(mark, answer)
        return answer.response(replayed=False)

    async def _claim(
        self, mark: str, caller: str, key: str, sent: str, recover: Recover
    ) -> Answer | None:
        """None once this request holds the key; the answer to replay if another had it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:
            now = utcnow_ms()
            record: KeyRecord = {
                "_id": mark,
                "caller": caller,
                "fingerprint": sent,
                "state": "pending",
                "lease_until": now + LEASE,
                "expires_at": now + TTL,
            }
            try:
                await self._coll.insert_one(record)
                return None
            except DuplicateKeyError:
                pass
            held = await self._coll.find_one({"_id": mark})
            if held is None:
                continue  # expired (or released) meanwhile: claim it again
            if held["expires_at"] <= now:
                await self._coll.delete_one({"_id": mark, "expires_at": held["expires_at"]})
                continue
            if held["fingerprint"] != sent:
                raise Conflict(
                    f"Idempotency-Key '{key}' was already used for another request (another "
                    "method, path or body); use a new key for a new request",
                    fields={HEADER: "used for another request"},
                )
            if held["state"] == "done":
                return Answer(held.get("status", 200), held.get("body"))
            if (recovered := await recover(mark)) is not None:
                await self._finish(mark, recovered)
                return recovered
            if held["lease_until"] <= now and await self._take_over(held, record):
                return None
            if loop.time() >= deadline:
                raise InProgress(key)
            await asyncio.sleep(_POLL)  # the first request's answer is being written: poll

    async def _take_over(self, held: KeyRecord, record: KeyRecord) -> bool:
        """The claim of a request that died before writing its change is this one's."""
        taken = await self._coll.update_one(
            {"_id": held["_id"], "state": "pending", "lease_until": held["lease_until"]},
            {"$set": {"lease_until": record["lease_until"]}},
        )
        return taken.modified_count == 1

    async def _finish(self, mark: str, answer: Answer) -> None:
        await self._coll.update_one(
            {"_id": mark},
            {"$set": {"state": "done", "status": answer.status, "body": answer.body}},
        )
