"""The `applications` collection. Each document carries its own outbox (aigw.common.outbox).

Name uniqueness per owner is a unique index on `unique_key` ("<owner>\\n<name>"). Deleting an
application rewrites that key to "deleted:<id>", because the document lingers (marked
`_deleted`) until the relay has published its last event and the name must be free at once.
"""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope
from aigw.common.outbox import DELETED, NOT_DELETED, staged, with_outbox

COLLECTION = "applications"

Db = AsyncDatabase[dict[str, Any]]


def unique_key(owner: str, name: str) -> str:
    return f"{owner}\n{name}"


async def ensure_indexes(db: Db) -> None:
    await db[COLLECTION].create_index("unique_key", unique=True)
    await db[COLLECTION].create_index("owner")


async def insert(db: Db, doc: dict[str, Any], event: Envelope) -> bool:
    """Store a new application with its creation event; False if the name is taken."""
    try:
        await db[COLLECTION].insert_one(with_outbox(doc, event))
    except DuplicateKeyError:
        return False
    return True


async def find_owned(db: Db, owner: str, app_id: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": app_id, "owner": owner, **NOT_DELETED})


async def list_owned(db: Db, owner: str) -> list[dict[str, Any]]:
    query = {"owner": owner, **NOT_DELETED}
    return await db[COLLECTION].find(query).sort("created_time", 1).to_list()


async def mark_deleted(db: Db, owner: str, app_id: str, event: Envelope) -> bool:
    """Delete and stage the event in one write; False if it was not there (or not theirs)."""
    result = await db[COLLECTION].update_one(
        {"_id": app_id, "owner": owner, **NOT_DELETED},
        {"$set": {DELETED: True, "unique_key": f"deleted:{app_id}"}, **staged(event)},
    )
    return result.modified_count == 1
