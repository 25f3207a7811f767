"""The `apis` collection. Every write is one single-document operation that also stages the
change's events (see aigw.common.outbox), so a change and its events land together or not at all.

Documents carry `_v`, bumped by every update: writes are conditional on the `_v` the caller
read, so an event built from a document always describes the state it was written with.
`route_key` has a unique index: a clash of gateway routes is refused by the store itself.
"""

import builtins
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.outbox import NOT_DELETED, OUTBOX

COLLECTION = "apis"
VERSION = "_v"
Doc = dict[str, Any]

# Reads never need the staged events; they are the relay's business.
_NO_OUTBOX = {OUTBOX: 0}


class ApiRepository:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self._coll: AsyncCollection[Doc] = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("route_key", unique=True, name="route_key_unique")
        await self._coll.create_index("created_time", name="created_time")
        await self._coll.create_index("owner", name="owner")
        await self._coll.create_index("co_owners", name="co_owners")

    async def insert(self, doc: Doc) -> None:
        """Raises pymongo's DuplicateKeyError when the route key is taken."""
        await self._coll.insert_one({**doc, VERSION: 1})

    async def get(self, api_id: str) -> Doc | None:
        return await self._coll.find_one({"_id": api_id, **NOT_DELETED}, _NO_OUTBOX)

    async def list(self, member: str | None = None) -> list[Doc]:
        """The live APIs, oldest first; with `member`, only those it owns or co-owns."""
        query: Doc = dict(NOT_DELETED)
        if member is not None:
            query["$or"] = [{"owner": member}, {"co_owners": member}]
        cursor = self._coll.find(query, _NO_OUTBOX).sort("created_time", 1)
        return [doc async for doc in cursor]

    async def count_offering(self, policy: str) -> int:
        """How many live APIs offer the plan."""
        return await self._coll.count_documents({"policies": policy, **NOT_DELETED})

    async def using_vendor(self, name: str, version: str) -> builtins.list[Doc]:
        """The live APIs built on the vendor (id and name only), oldest first."""
        query = {"vendor.name": name, "vendor.version": version, **NOT_DELETED}
        cursor = self._coll.find(query, {"_id": 1, "name": 1}).sort("created_time", 1)
        return [doc async for doc in cursor]

    async def apply(self, api_id: str, read_version: int, update: Doc) -> Doc | None:
        """Apply `update` if the document is still at `read_version`; None if it moved on
        (or is gone). Raises DuplicateKeyError when the update takes a used route key."""
        increments = {**update.get("$inc", {}), VERSION: 1}
        return await self._coll.find_one_and_update(
            {"_id": api_id, VERSION: read_version, **NOT_DELETED},
            {**update, "$inc": increments},
            projection=_NO_OUTBOX,
            return_document=ReturnDocument.AFTER,
        )
