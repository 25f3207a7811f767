"""The `applications` collection. Each document carries its own outbox (aigw.common.outbox).

Name uniqueness per owner is a unique index on `unique_key` ("<owner>\\n<name>"), kept by this
repository. Deleting an application rewrites that key to "deleted:<id>", because the document
lingers (marked `_deleted`) until the relay has published its last event and the name must be
free at once.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope
from aigw.common.mongo import Document
from aigw.common.outbox import DELETED, NOT_DELETED, staged, with_outbox

COLLECTION = "applications"


class ApplicationDoc(TypedDict):
    _id: str
    name: str
    description: str
    owner: str
    created_time: datetime


def unique_key(owner: str, name: str) -> str:
    return f"{owner}\n{name}"


class ApplicationRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("unique_key", unique=True)
        await self._coll.create_index("owner")

    async def insert(self, app: ApplicationDoc, event: Envelope) -> bool:
        """Store a new application with its creation event; False if the owner already has
        one of that name."""
        doc: Document = {**app, "unique_key": unique_key(app["owner"], app["name"])}
        try:
            await self._coll.insert_one(with_outbox(doc, event))
        except DuplicateKeyError:
            return False
        return True

    async def find_owned(self, owner: str, app_id: str) -> ApplicationDoc | None:
        doc = await self._coll.find_one({"_id": app_id, "owner": owner, **NOT_DELETED})
        return None if doc is None else _application(doc)

    async def list_owned(self, owner: str) -> list[ApplicationDoc]:
        cursor = self._coll.find({"owner": owner, **NOT_DELETED}).sort("created_time", 1)
        return [_application(doc) async for doc in cursor]

    async def mark_deleted(self, owner: str, app_id: str, event: Envelope) -> bool:
        """Delete and stage the event in one write; False if it was not there (or not theirs)."""
        result = await self._coll.update_one(
            {"_id": app_id, "owner": owner, **NOT_DELETED},
            {"$set": {DELETED: True, "unique_key": f"deleted:{app_id}"}, **staged(event)},
        )
        return result.modified_count == 1


def _application(doc: Mapping[str, Any]) -> ApplicationDoc:
    return ApplicationDoc(
        _id=doc["_id"],
        name=doc["name"],
        description=doc.get("description", ""),
        owner=doc["owner"],
        created_time=doc["created_time"],
    )
