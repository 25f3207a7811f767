"""The `subscriptions` collection, with the same outbox and unique-key scheme as applications:
`unique_key` is "<applicationId>\\n<apiId>" while live and "deleted:<id>" once deleted."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypedDict

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope
from aigw.common.ids import utcnow_ms
from aigw.common.mongo import Document
from aigw.common.outbox import DELETED, NOT_DELETED, OUTBOX, staged, with_outbox

COLLECTION = "subscriptions"


class SubscriptionDoc(TypedDict):
    _id: str
    application_id: str
    api_id: str
    policy: str
    status: Literal["UNBLOCKED"]
    owner: str
    created_time: datetime


def unique_key(application_id: str, api_id: str) -> str:
    return f"{application_id}\n{api_id}"


class SubscriptionRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("unique_key", unique=True)
        await self._coll.create_index([("owner", 1), ("application_id", 1)])

    async def insert(self, sub: SubscriptionDoc, event: Envelope) -> bool:
        """Store a new subscription with its event; False if the app already has one to the
        API."""
        doc: Document = {**sub, "unique_key": unique_key(sub["application_id"], sub["api_id"])}
        try:
            await self._coll.insert_one(with_outbox(doc, event))
        except DuplicateKeyError:
            return False
        return True

    async def find_owned(self, owner: str, sub_id: str) -> SubscriptionDoc | None:
        doc = await self._coll.find_one({"_id": sub_id, "owner": owner, **NOT_DELETED})
        return None if doc is None else _subscription(doc)

    async def list_owned(self, owner: str, application_id: str | None) -> list[SubscriptionDoc]:
        query: Document = {"owner": owner, **NOT_DELETED}
        if application_id is not None:
            query["application_id"] = application_id
        cursor = self._coll.find(query).sort("created_time", 1)
        return [_subscription(doc) async for doc in cursor]

    async def change_policy(
        self, sub_id: str, policy: str, event: Envelope
    ) -> SubscriptionDoc | None:
        """Move a live subscription to `policy`, staging the event; None if it is gone."""
        doc = await self._coll.find_one_and_update(
            {"_id": sub_id, **NOT_DELETED},
            {"$set": {"policy": policy, "updated_time": utcnow_ms()}, **staged(event)},
            projection={OUTBOX: 0},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else _subscription(doc)

    async def mark_deleted(self, sub_id: str, event: Envelope) -> bool:
        """Delete and stage the event in one write; False if it was already deleted."""
        result = await self._coll.update_one(
            {"_id": sub_id, **NOT_DELETED},
            {"$set": {DELETED: True, "unique_key": f"deleted:{sub_id}"}, **staged(event)},
        )
        return result.modified_count == 1


def _subscription(doc: Mapping[str, Any]) -> SubscriptionDoc:
    return SubscriptionDoc(
        _id=doc["_id"],
        application_id=doc["application_id"],
        api_id=doc["api_id"],
        policy=doc["policy"],
        status=doc.get("status", "UNBLOCKED"),
        owner=doc["owner"],
        created_time=doc["created_time"],
    )
