"""API keys at rest: the SHA-256 of the key and a masked form, never the key itself."""

from datetime import datetime
from typing import Any, NotRequired, TypedDict, cast

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.events import Envelope, KeyType
from aigw.common.ids import utcnow
from aigw.common.mongo import Document
from aigw.common.outbox import NOT_DELETED, staged, with_outbox

COLLECTION = "api_keys"


class KeySecret(TypedDict):
    """What is stored of a key's secret: its hash, a masked form, and when it expires."""

    key_hash: str
    masked_key: str
    expires_in: NotRequired[int | None]  # seconds; absent from keys stored before it was
    expires_at: datetime | None


class ApiKeyDoc(KeySecret):
    """An API key as stored (the writes below also stamp `regenerated_time` and
    `revoked_time`, which nothing reads back)."""

    _id: str
    application_id: str
    key_type: KeyType
    api_id: str | None  # set for test keys: valid for this API only
    created_time: datetime
    revoked: bool
    owner: str  # the username the key was issued to


class ApiKeyRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = cast("AsyncCollection[ApiKeyDoc]", db[COLLECTION])

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("key_hash", unique=True)
        await self._coll.create_index([("owner", 1), ("application_id", 1)])

    async def insert(self, doc: ApiKeyDoc, event: Envelope) -> None:
        await self._coll.insert_one(with_outbox(doc, event))

    async def find(self, key_id: str) -> ApiKeyDoc | None:
        return await self._coll.find_one({"_id": key_id, **NOT_DELETED})

    async def find_many(self, owner: str | None, application_id: str | None) -> list[ApiKeyDoc]:
        query: dict[str, Any] = dict(NOT_DELETED)
        if owner is not None:
            query["owner"] = owner
        if application_id is not None:
            query["application_id"] = application_id
        return await self._coll.find(query).sort("created_time", 1).to_list()

    async def replace_secret(
        self, key_id: str, secret: KeySecret, event: Envelope
    ) -> ApiKeyDoc | None:
        """Swap in a new hash (and expiry) with the event, unless the key is revoked; the
        updated document, or None if there is no live key with this id."""
        return await self._coll.find_one_and_update(
            {"_id": key_id, "revoked": {"$ne": True}, **NOT_DELETED},
            {"$set": {**secret, "regenerated_time": utcnow()}, **staged(event)},
            return_document=ReturnDocument.AFTER,
        )

    async def mark_revoked(self, key_id: str, event: Envelope) -> bool:
        """Revoke and stage the event in one write; False if it was already revoked."""
        result = await self._coll.update_one(
            {"_id": key_id, "revoked": {"$ne": True}, **NOT_DELETED},
            {"$set": {"revoked": True, "revoked_time": utcnow()}, **staged(event)},
        )
        return result.modified_count == 1
