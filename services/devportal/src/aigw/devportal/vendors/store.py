"""The `vendor_definitions` collection: devportal's copy of the custom vendors' API
definitions, built only from aigw.vendor.changed events, with the catalogue's newer-event
guard (see catalog.store). Built-in vendors never change and are read from the product."""

from typing import Any

from pymongo.errors import DuplicateKeyError

from aigw.common.vendors import BUILT_IN_VENDORS
from aigw.devportal.catalog.store import Db

COLLECTION = "vendor_definitions"
_BUILT_IN = {(v.name, v.version): v.api_definition for v in BUILT_IN_VENDORS}


def vendor_key(name: str, version: str) -> str:
    return f"{name}/{version}"


async def upsert_if_newer(db: Db, name: str, version: str, at: int, fields: dict[str, Any]) -> bool:
    """Write `fields` unless an event at least as new already wrote this vendor."""
    try:
        await db[COLLECTION].update_one(
            {"_id": vendor_key(name, version), "event_us": {"$lt": at}},
            {"$set": {**fields, "event_us": at}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the stored vendor is as new or newer: a stale or replayed event
    return True


async def api_definition(db: Db, name: str, version: str) -> dict[str, Any] | None:
    """The vendor's OpenAPI document: a built-in's, or the latest a custom vendor's events
    carried (None for an unknown or deleted vendor, or one whose events carried none)."""
    if (name, version) in _BUILT_IN:
        return _BUILT_IN[(name, version)]
    doc = await db[COLLECTION].find_one({"_id": vendor_key(name, version), "deleted": False})
    return None if doc is None else doc.get("api_definition")
