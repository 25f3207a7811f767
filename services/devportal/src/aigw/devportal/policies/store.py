"""The `policies` collection: devportal's copy of the business plans, built only from
aigw.policy.updated events, with the catalogue's newer-event guard (see catalog.store)."""

from typing import Any

from pymongo.errors import DuplicateKeyError

from aigw.devportal.catalog.store import Db

COLLECTION = "policies"
LIVE: dict[str, Any] = {"deleted": {"$ne": True}}


async def upsert_if_newer(db: Db, name: str, at: int, fields: dict[str, Any]) -> bool:
    """Write `fields` unless an event at least as new already wrote this plan."""
    try:
        await db[COLLECTION].update_one(
            {"_id": name, "event_us": {"$lt": at}},
            {"$set": {**fields, "event_us": at}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the stored plan is as new or newer: a stale or replayed event
    return True


async def list_live(db: Db) -> list[dict[str, Any]]:
    return await db[COLLECTION].find(LIVE).sort("_id", 1).to_list()
