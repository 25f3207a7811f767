"""The audit projection's collections, all rebuilt from the stream when dropped:

- `audit_events`: one document per verified event, `_id` the event id (a replayed event
  changes nothing), `seq` its stream sequence (the trail's order), the fields queries filter
  on, and `raw`, the envelope exactly as it was published (what the API answers);
- `audit_links`: who owns what, as the events said (aigw.publisher.audit.projection);
- `audit_state`: how far into the stream the projection has folded.
"""

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import NotRequired, TypedDict, cast

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from aigw.common.mongo import Document

EVENTS = "audit_events"
LINKS = "audit_links"
STATE = "audit_state"
COLLECTIONS = (EVENTS, LINKS, STATE)
_CHECKPOINT = "checkpoint"
DUPLICATE_KEY = 11000
# the filters a query may combine; each is indexed with the trail's order
FILTER_FIELDS = (
    "time",
    "type",
    "subject",
    "actor",
    "correlationid",
    "owner",
    "api_owner",
    "application_id",
    "entity",
)


class AuditDoc(TypedDict):
    _id: str  # the event id
    seq: int
    time: datetime
    type: str
    entity: str  # `api`, `application`, `key`... (the type's second token)
    subject: str
    actor: str
    correlationid: str
    raw: str
    application_id: NotRequired[str]  # the application the event belongs to, if any
    owner: NotRequired[str]  # that application's owner
    api_owner: NotRequired[str]  # for an API's events: who created the API


class LinkDoc(TypedDict):
    _id: str  # `api:<id>`, `application:<id>`, `key:<id>`, `oauthclient:<id>`
    value: str  # the API's creator, the application's owner, the key's or client's application


class _Checkpoint(TypedDict):
    _id: str
    seq: int


class AuditRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self._events = cast("AsyncCollection[AuditDoc]", db[EVENTS])
        self._links = cast("AsyncCollection[LinkDoc]", db[LINKS])
        self._state = cast("AsyncCollection[_Checkpoint]", db[STATE])

    async def ensure_indexes(self) -> None:
        await self._events.create_index("seq", unique=True, name="seq_unique")
        for name in FILTER_FIELDS:
            await self._events.create_index([(name, ASCENDING), ("seq", DESCENDING)], name=name)

    async def checkpoint(self) -> int:
        """The stream sequence of the last event folded (0: none yet)."""
        doc = await self._state.find_one({"_id": _CHECKPOINT})
        return doc["seq"] if doc is not None else 0

    async def links(self) -> dict[str, str]:
        return {doc["_id"]: doc["value"] async for doc in self._links.find({})}

    async def write(self, docs: list[AuditDoc], links: list[LinkDoc], seq: int) -> None:
        """One batch of the fold, then the checkpoint after it (a crash in between folds the
        batch again, which changes nothing)."""
        if docs:
            await self._insert_new(docs)
        if links:
            await self._links.bulk_write(
                [UpdateOne({"_id": ln["_id"]}, {"$set": _fields(ln)}, upsert=True) for ln in links],
                ordered=False,
            )
        await self._state.update_one({"_id": _CHECKPOINT}, {"$max": {"seq": seq}}, upsert=True)

    async def _insert_new(self, docs: list[AuditDoc]) -> None:
        """Inserts the batch; an event already there (same id) stays as it is. Plain inserts:
        several times faster than one upsert per event on the embedded store."""
        try:
            await self._events.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise

    async def page(self, query: Document, limit: int) -> list[AuditDoc]:
        """The newest `limit` events matching `query`, newest first."""
        cursor = self._events.find(query).sort("seq", DESCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def application_names(self, ids: Sequence[str]) -> dict[str, str]:
        """The names the applications `ids` were created with, as their aigw.application.created
        events said (an application the trail has not folded yet is left out)."""
        query = {"type": "aigw.application.created", "subject": {"$in": list(ids)}}
        names: dict[str, str] = {}
        async for doc in self._events.find(query, {"subject": 1, "raw": 1}):
            name = json.loads(doc["raw"]).get("data", {}).get("name")
            if isinstance(name, str):
                names[doc["subject"]] = name
        return names

    async def stream(self, query: Document, batch_size: int = 500) -> AsyncIterator[str]:
        """Every matching event's envelope, oldest first, read in batches (never all at once)."""
        cursor = self._events.find(query, {"raw": 1}).sort("seq", ASCENDING)
        async for doc in cursor.batch_size(batch_size):
            yield doc["raw"]


def _fields(doc: LinkDoc) -> Document:
    """The document without its `_id` (an upsert takes that from its filter)."""
    return {name: value for name, value in doc.items() if name != "_id"}
