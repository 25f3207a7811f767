"""The `subscriptions` collection, with the same outbox and unique-key scheme as applications:
`unique_key` is "<applicationId>\\n<apiId>" while live and "deleted:<id>" once deleted."""

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope
from aigw.common.ids import utcnow_ms
from aigw.common.outbox import DELETED, NOT_DELETED, OUTBOX, staged, with_outbox

COLLECTION = "subscriptions"

Db = AsyncDatabase[dict[str, Any]]


def unique_key(application_id: str, api_id: str) -> str:
    return f"{application_id}\n{api_id}"


async def ensure_indexes(db: Db) -> None:
    await db[COLLECTION].create_index("unique_key", unique=True)
    await db[COLLECTION].create_index([("owner", 1), ("application_id", 1)])


async def insert(db: Db, doc: dict[str, Any], event: Envelope) -> bool:
    """Store a new subscription with its event; False if the app already has one to the API."""
    try:
        await db[COLLECTION].insert_one(with_outbox(doc, event))
    except DuplicateKeyError:
        return False
    return True


async def find_owned(db: Db, owner: str, sub_id: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": sub_id, "owner": owner, **NOT_DELETED})


async def list_owned(db: Db, owner: str, application_id: str | None) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"owner": owner, **NOT_DELETED}
    if application_id is not None:
        query["application_id"] = application_id
    return await db[COLLECTION].find(query).sort("created_time", 1).to_list()


async def change_policy(db: Db, sub_id: str, policy: str, event: Envelope) -> dict[str, Any] | None:
    """Move a live subscription to `policy`, staging the event; None if it is gone."""
    return await db[COLLECTION].find_one_and_update(
        {"_id": sub_id, **NOT_DELETED},
        {"$set": {"policy": policy, "updated_time": utcnow_ms()}, **staged(event)},
        projection={OUTBOX: 0},
        return_document=ReturnDocument.AFTER,
    )


async def mark_deleted(db: Db, sub_id: str, event: Envelope) -> bool:
    """Delete and stage the event in one write; False if it was already deleted."""
    result = await db[COLLECTION].update_one(
        {"_id": sub_id, **NOT_DELETED},
        {"$set": {DELETED: True, "unique_key": f"deleted:{sub_id}"}, **staged(event)},
    )
    return result.modified_count == 1
