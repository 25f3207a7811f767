"""The `catalog` collection: devportal's own copy of the APIs publisher has published.

One document per API, keyed by api_id, built only from events. Every write is conditional on
the event being newer than the one that last changed the document (`event_us`, the envelope
time in microseconds), so replays and redeliveries are no-ops and a late, older event cannot
undo a newer one. Deleted APIs stay as unlisted tombstones for the same reason.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

COLLECTION = "catalog"
LISTED: dict[str, Any] = {"listed": True}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Db = AsyncDatabase[dict[str, Any]]


def event_micros(time: datetime) -> int:
    """Envelope time as an exact integer: BSON dates keep only milliseconds."""
    aware = time if time.tzinfo is not None else time.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


async def upsert_if_newer(db: Db, api_id: str, at: int, fields: dict[str, Any]) -> bool:
    """Write `fields` unless an event at least as new already wrote this API."""
    try:
        await db[COLLECTION].update_one(
            {"_id": api_id, "event_us": {"$lt": at}},
            {"$set": {**fields, "event_us": at}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the stored document is as new or newer: a stale or replayed event
    return True


async def update_if_newer(db: Db, api_id: str, at: int, fields: dict[str, Any]) -> bool:
    """Change an API already in the catalogue (not deleted), unless the event is stale."""
    result = await db[COLLECTION].update_one(
        {"_id": api_id, "event_us": {"$lt": at}, "deleted": {"$ne": True}},
        {"$set": {**fields, "event_us": at}},
    )
    return result.modified_count == 1


async def find_listed(db: Db, api_id: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": api_id, **LISTED})


async def list_listed(db: Db) -> list[dict[str, Any]]:
    return await db[COLLECTION].find(LISTED).sort([("name", 1), ("version", 1)]).to_list()
