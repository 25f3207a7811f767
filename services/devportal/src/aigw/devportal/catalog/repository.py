"""The `catalog` collection: devportal's own copy of the APIs publisher has published.

One document per API, keyed by api_id, built only from events (catalog.projection) with the
read models' newer-event guard (aigw.devportal.projection): a late, older event cannot undo a
newer one. Deleted APIs stay as unlisted tombstones for the same reason.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from aigw.common.mongo import Document
from aigw.devportal.projection import Db, upsert_if_newer

COLLECTION = "catalog"
LISTED: Document = {"listed": True}
UNLIMITED = "Unlimited"  # the plan of APIs published before plans existed


class VendorRefDoc(TypedDict):
    name: str
    version: str


class Listing(TypedDict):
    """What an API event says about the API as the catalogue shows it (`listed`: whether it
    is in the catalogue); the route prefix is written apart, as an update may omit it."""

    name: str
    context: str
    version: str
    vendor: VendorRefDoc
    description: str
    lifecycle_status: str
    policies: list[str]
    listed: bool


class CatalogEntry(TypedDict):
    """A listed API as read back (`_id`: the API's id)."""

    _id: str
    name: str
    context: str
    version: str
    route_prefix: str
    vendor: VendorRefDoc
    description: str
    lifecycle_status: str
    policies: list[str]


class CatalogRepository:
    def __init__(self, db: Db) -> None:
        self._coll = db[COLLECTION]

    async def publish(self, api_id: str, at: int, listing: Listing, route_prefix: str) -> bool:
        """The API as published (again: a deleted one's tombstone is rewritten only by a newer
        event); False for a stale or replayed event."""
        fields = {**listing, "route_prefix": route_prefix, "deleted": False}
        return await upsert_if_newer(self._coll, api_id, at, fields)

    async def update(
        self, api_id: str, at: int, listing: Listing, route_prefix: str | None
    ) -> bool:
        """Change an API already in the catalogue (not deleted), unless the event is stale;
        the route prefix only if the event carried one."""
        fields: Mapping[str, object] = {
            **listing,
            **({"route_prefix": route_prefix} if route_prefix else {}),
        }
        result = await self._coll.update_one(
            {"_id": api_id, "event_us": {"$lt": at}, "deleted": {"$ne": True}},
            {"$set": {**fields, "event_us": at}},
        )
        return result.modified_count == 1

    async def tombstone(self, api_id: str, at: int) -> bool:
        """Out of the catalogue for good: only a newer event may bring it back."""
        return await upsert_if_newer(self._coll, api_id, at, {"listed": False, "deleted": True})

    async def find_listed(self, api_id: str) -> CatalogEntry | None:
        doc = await self._coll.find_one({"_id": api_id, **LISTED})
        return None if doc is None else _entry(doc)

    async def names(self, api_ids: Sequence[str]) -> dict[str, str]:
        """The APIs' names and versions (`MistralAIAPI 0.0.2`), those no longer listed included:
        usage records name APIs that may have left the catalogue since."""
        query = {"_id": {"$in": list(api_ids)}, "name": {"$exists": True}}
        cursor = self._coll.find(query, {"name": 1, "version": 1})
        return {
            doc["_id"]: f"{doc['name']} {doc.get('version', '')}".strip() async for doc in cursor
        }

    async def list_listed(self) -> list[CatalogEntry]:
        cursor = self._coll.find(LISTED).sort([("name", 1), ("version", 1)])
        return [_entry(doc) async for doc in cursor]


def _entry(doc: Mapping[str, Any]) -> CatalogEntry:
    return CatalogEntry(
        _id=doc["_id"],
        name=doc["name"],
        context=doc["context"],
        version=doc["version"],
        route_prefix=doc["route_prefix"],
        vendor=VendorRefDoc(name=doc["vendor"]["name"], version=doc["vendor"]["version"]),
        description=doc.get("description", ""),
        lifecycle_status=doc["lifecycle_status"],
        # entries written before plans existed carry none: they offer Unlimited
        policies=list(doc.get("policies") or [UNLIMITED]),
    )
