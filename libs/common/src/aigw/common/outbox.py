"""Transactional outbox, embedded in each entity document.

A state change stages its events in the changed document's `_outbox` array within the same
single-document write, which MongoDB (and the embedded store) apply atomically without needing
a replica-set transaction. The relay then publishes the staged events to JetStream (event id =
message id, so a retry is de-duplicated) and pulls them from the document. If NATS is down the
events stay staged and a background sweep publishes them once it is back: an acknowledged
change is never missing from the stream. The relay is woken when NATS reconnects (`wake`), so
what was staged during an outage is published as soon as NATS is back, not at the next sweep.

Deleting an entity marks it `_deleted` and stages the delete event; the relay removes the
document once its outbox is empty. Repositories filter out `_deleted` documents.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.events import Envelope

log = logging.getLogger(__name__)

OUTBOX = "_outbox"
DELETED = "_deleted"
NOT_DELETED: dict[str, Any] = {DELETED: {"$ne": True}}

Publish = Callable[[Envelope], Awaitable[None]]


def staged(*events: Envelope) -> dict[str, Any]:
    """The update fragment that stages events in a document: merge it into an update."""
    return {"$push": {OUTBOX: {"$each": [e.model_dump(mode="json") for e in events]}}}


def with_outbox[D: Mapping[str, Any]](document: D, *events: Envelope) -> D:
    """A new document that carries its creation events (of the document's own type: a
    repository's typed document stays typed; the outbox field is the relay's business)."""
    return cast(D, {**document, OUTBOX: [e.model_dump(mode="json") for e in events]})


class Outbox:
    def __init__(
        self, db: AsyncDatabase[dict[str, Any]], publish: Publish, collections: Sequence[str]
    ) -> None:
        self._db = db
        self._publish = publish
        self._collections = tuple(collections)
        self._woken = asyncio.Event()

    async def flush(self, collection: str, doc_id: Any) -> None:
        """Publish one document's staged events, in order, then remove them from it."""
        coll = self._db[collection]
        doc = await coll.find_one({"_id": doc_id}, {OUTBOX: 1, DELETED: 1})
        if doc is None:
            return
        sent: list[str] = []
        try:
            for raw in doc.get(OUTBOX, []):
                await self._publish(Envelope.model_validate(raw))
                sent.append(raw["id"])
        finally:
            if sent:
                await coll.update_one({"_id": doc_id}, {"$pull": {OUTBOX: {"id": {"$in": sent}}}})
        if doc.get(DELETED):
            await coll.delete_one({"_id": doc_id, DELETED: True, OUTBOX: {"$size": 0}})

    async def try_flush(self, collection: str, doc_id: Any) -> None:
        """Flush right after a write; on failure the sweep retries, the request still succeeds."""
        try:
            await self.flush(collection, doc_id)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the sweep retries
            log.warning("event publish deferred to the outbox sweep: %s", exc)

    async def ensure_indexes(self) -> None:
        """Index staged event ids, so the sweep reads only documents with pending events."""
        for collection in self._collections:
            await self._db[collection].create_index(f"{OUTBOX}.id")

    async def sweep(self) -> int:
        """Flush every document that still has staged events; returns how many were found."""
        pending = 0
        for collection in self._collections:
            # a range on the indexed ids (never empty strings) skips documents with none
            cursor = self._db[collection].find({f"{OUTBOX}.id": {"$gt": ""}}, {"_id": 1})
            async for doc in cursor:
                pending += 1
                await self.flush(collection, doc["_id"])
        return pending

    def wake(self) -> None:
        """Sweep now (NATS is back): the pending events go out without waiting the interval."""
        self._woken.set()

    async def run(self, interval: float = 1.0, hurried: float = 0.1, tries: int = 30) -> None:
        """Sweeps every `interval`; after a wake-up, every `hurried` seconds (at most `tries`
        times) until a sweep succeeds: JetStream may take a moment longer than the
        connection to be back."""
        hurry = 0
        while True:
            self._woken.clear()
            try:
                await self.sweep()
                hurry = 0
            except Exception as exc:  # noqa: BLE001 - the relay must outlive any failure
                log.warning("outbox sweep failed, retrying: %s", exc)
            if not self._woken.is_set():
                wait, hurry = (hurried if hurry else interval), max(0, hurry - 1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), wait)
            if self._woken.is_set():
                hurry = tries
