"""The `ai_vendors` collection: one document per custom vendor, each write staging its event.

`vendor_key` (unique) is `<name>/<version>` while the vendor lives and "deleted:<id>" once
deleted, so a name and version are free again at once even though the document lingers until
the relay has sent its last event. The definition is stored as its JSON text: an API
definition has keys such as `$ref` and `/v1/chat/completions`, and header names may contain
`.` or `$`, none of which a document field name may safely hold.
"""

from datetime import datetime
from typing import TypedDict, cast

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.events import Envelope
from aigw.common.mongo import Document, Update
from aigw.common.outbox import DELETED, NOT_DELETED, OUTBOX, with_outbox
from aigw.common.vendors import VendorDefinition

COLLECTION = "ai_vendors"


class VendorDoc(TypedDict):
    _id: str
    name: str
    version: str
    definition: str  # the VendorDefinition as JSON text (see above)
    created_time: datetime
    updated_time: datetime


class StoredVendor(VendorDoc):
    vendor_key: str  # see above


_NO_OUTBOX = {OUTBOX: 0}


def vendor_key(name: str, version: str) -> str:
    return f"{name}/{version}"


def definition_of(doc: VendorDoc) -> VendorDefinition:
    return VendorDefinition.model_validate_json(doc["definition"])


def stored_definition(definition: VendorDefinition) -> str:
    return definition.model_dump_json()


class VendorRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = cast("AsyncCollection[StoredVendor]", db[COLLECTION])

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("vendor_key", unique=True, name="vendor_key_unique")
        await self._coll.create_index("created_time", name="created_time")

    async def insert(self, vendor: VendorDoc, *events: Envelope) -> None:
        """Raises pymongo's DuplicateKeyError when the name and version are taken."""
        doc: StoredVendor = {**vendor, "vendor_key": vendor_key(vendor["name"], vendor["version"])}
        await self._coll.insert_one(with_outbox(doc, *events))

    async def get(self, name: str, version: str) -> StoredVendor | None:
        query = {"vendor_key": vendor_key(name, version), **NOT_DELETED}
        return await self._coll.find_one(query, _NO_OUTBOX)

    async def list_all(self) -> list[StoredVendor]:
        cursor = self._coll.find(NOT_DELETED, _NO_OUTBOX).sort("created_time", 1)
        return [doc async for doc in cursor]

    async def change(self, name: str, version: str, update: Update) -> StoredVendor | None:
        """Apply `update` to the live vendor; None if there is none by that name and version."""
        return await self._coll.find_one_and_update(
            {"vendor_key": vendor_key(name, version), **NOT_DELETED},
            update,
            projection=_NO_OUTBOX,
            return_document=ReturnDocument.AFTER,
        )

    async def retire(self, doc_id: str, fields: Update, staged_events: Update) -> bool:
        """Mark the vendor deleted and free its key, staging its events; False if it is gone."""
        marks = {**fields, DELETED: True, "vendor_key": f"deleted:{doc_id}"}
        result = await self._coll.update_one(
            {"_id": doc_id, **NOT_DELETED}, {"$set": marks, **staged_events}
        )
        return result.modified_count == 1
