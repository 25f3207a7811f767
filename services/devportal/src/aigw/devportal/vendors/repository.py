"""The `vendor_definitions` collection: devportal's copy of the custom vendors' API
definitions, built only from aigw.vendor.changed events (vendors.projection) with the read
models' newer-event guard (aigw.devportal.projection)."""

from typing import Any, TypedDict

from aigw.devportal.projection import Db, upsert_if_newer

COLLECTION = "vendor_definitions"


class VendorDefinitionDoc(TypedDict):
    """A custom vendor's definition as its latest event left it (`_id`: "<name>/<version>")."""

    api_definition: dict[str, Any] | None  # an OpenAPI document, or none
    deleted: bool


def vendor_key(name: str, version: str) -> str:
    return f"{name}/{version}"


class VendorDefinitionRepository:
    def __init__(self, db: Db) -> None:
        self._coll = db[COLLECTION]

    async def upsert_if_newer(
        self, name: str, version: str, at: int, definition: VendorDefinitionDoc
    ) -> bool:
        """Write the vendor's definition unless an event at least as new already did."""
        return await upsert_if_newer(self._coll, vendor_key(name, version), at, definition)

    async def api_definition(self, name: str, version: str) -> dict[str, Any] | None:
        """The live vendor's OpenAPI document (None if unknown, deleted or never carried)."""
        doc = await self._coll.find_one({"_id": vendor_key(name, version), "deleted": False})
        if doc is None:
            return None
        document: dict[str, Any] | None = doc.get("api_definition")
        return document
