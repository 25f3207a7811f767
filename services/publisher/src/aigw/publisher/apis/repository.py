"""The `apis` collection. Every write is one single-document operation that also stages the
change's events (see aigw.common.outbox), so a change and its events land together or not at all.

Documents carry `_v`, bumped by every update: writes are conditional on the `_v` the caller
read, so an event built from a document always describes the state it was written with.
`route_key` has a unique index: a clash of gateway routes is refused by the store itself.
"""

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict, cast

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.events import Envelope
from aigw.common.mongo import Document, Update
from aigw.common.outbox import NOT_DELETED, OUTBOX, with_outbox

COLLECTION = "apis"


class VendorRefDoc(TypedDict):
    name: str
    version: str


class EndpointsDoc(TypedDict):
    production: str | None
    sandbox: str | None


class ThrottleDoc(TypedDict):
    production: int | None
    sandbox: int | None


class KeyEntry(TypedDict, total=False):
    """An endpoint's provider key decision, under `backend_security.<endpoint name>`: a key
    (`ciphertext`, `masked`, and the `origin` it was sealed for; keys sealed before origins
    were bound have none), no key on purpose (`keyless`, with its `origin`), or a key
    required again since the endpoint moved to another origin (`required`)."""

    ciphertext: str
    masked: str
    origin: str
    keyless: bool
    required: bool


class ApiDefinition(TypedDict):
    """The user-editable part of an API, plus what derives from it (route prefix and key)."""

    name: str
    context: str
    version: str
    description: str
    vendor: VendorRefDoc
    endpoints: EndpointsDoc
    policies: NotRequired[list[str]]  # NotRequired: absent from APIs stored before they existed
    backend_throttle: NotRequired[ThrottleDoc]
    additional_endpoints: NotRequired[dict[str, str]]
    routing: NotRequired[dict[str, Any]]  # ApiRouting's JSON (read back with model_validate)
    guardrails: NotRequired[list[dict[str, Any]]]  # as on the wire (camelCase, `schema`)
    cache: NotRequired[dict[str, Any] | None]  # ResponseCache's JSON, None: no cache
    route_prefix: str
    route_key: str


class DeployMark(TypedDict):
    """A deploy made with an Idempotency-Key (aigw.common.idempotency): its mark and what it
    answered, written by the deploy itself, so a retry finds it even if the answer was lost."""

    mark: str
    revision: int
    deployed_time: datetime


# The newest marks an API keeps: a retry within the key's lease finds its deploy among them
# unless more deploys than this were made with keys since
DEPLOY_MARKS = 32


class ApiDoc(ApiDefinition):
    """An API: what the service writes, and what every reader of one reads."""

    _id: str
    lifecycle_status: str
    revision: int
    deployed_revision: int | None
    deployed_time: datetime | None
    backend_security: dict[str, KeyEntry]
    owner: NotRequired[str]  # absent: created before owners existed, the admins' alone
    co_owners: NotRequired[list[str]]
    created_time: datetime
    updated_time: datetime
    deploy_marks: NotRequired[list[DeployMark]]  # the newest DEPLOY_MARKS deploys with a key


class StoredApi(ApiDoc):
    """An API as stored."""

    _v: int  # 1 on insert, raised by every update


@dataclass(frozen=True, slots=True)
class ApiName:
    id: str
    name: str


# Reads never need the staged events; they are the relay's business.
_NO_OUTBOX = {OUTBOX: 0}


class ApiRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self._coll = cast("AsyncCollection[StoredApi]", db[COLLECTION])

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("route_key", unique=True, name="route_key_unique")
        await self._coll.create_index("created_time", name="created_time")
        await self._coll.create_index("owner", name="owner")
        await self._coll.create_index("co_owners", name="co_owners")

    async def insert(self, api: ApiDoc, *events: Envelope) -> StoredApi:
        """The API as stored; raises pymongo's DuplicateKeyError when the route key is taken."""
        doc: StoredApi = {**api, "_v": 1}
        await self._coll.insert_one(with_outbox(doc, *events))
        return doc

    async def get(self, api_id: str) -> StoredApi | None:
        return await self._coll.find_one({"_id": api_id, **NOT_DELETED}, _NO_OUTBOX)

    async def list(self, member: str | None = None) -> builtins.list[StoredApi]:
        """The live APIs, oldest first; with `member`, only those it owns or co-owns."""
        query: dict[str, Any] = dict(NOT_DELETED)
        if member is not None:
            query["$or"] = [{"owner": member}, {"co_owners": member}]
        cursor = self._coll.find(query, _NO_OUTBOX).sort("created_time", 1)
        return [doc async for doc in cursor]

    async def deploy_mark(self, api_id: str, mark: str) -> DeployMark | None:
        """The deploy of the API made with `mark`, if one was."""
        doc = await self._coll.find_one(
            {"_id": api_id, "deploy_marks.mark": mark, **NOT_DELETED}, {"deploy_marks": 1}
        )
        marks = doc.get("deploy_marks", []) if doc is not None else []
        return next((m for m in marks if m["mark"] == mark), None)

    async def count_offering(self, policy: str) -> int:
        """How many live APIs offer the plan."""
        return await self._coll.count_documents({"policies": policy, **NOT_DELETED})

    async def using_vendor(self, name: str, version: str) -> builtins.list[ApiName]:
        """The live APIs built on the vendor, oldest first."""
        query = {"vendor.name": name, "vendor.version": version, **NOT_DELETED}
        cursor = self._coll.find(query, {"_id": 1, "name": 1}).sort("created_time", 1)
        return [ApiName(doc["_id"], doc["name"]) async for doc in cursor]

    async def apply(self, api_id: str, read_version: int, update: Update) -> StoredApi | None:
        """Apply `update` if the document is still at `read_version`; None if it moved on
        (or is gone). Raises DuplicateKeyError when the update takes a used route key."""
        increments = {**update.get("$inc", {}), "_v": 1}
        return await self._coll.find_one_and_update(
            {"_id": api_id, "_v": read_version, **NOT_DELETED},
            {**update, "$inc": increments},
            projection=_NO_OUTBOX,
            return_document=ReturnDocument.AFTER,
        )
