"""In-memory stand-ins for the publisher's repositories and outbox, for use-case unit tests:
documents kept as the store would keep them (update operators applied, unique keys refused
with pymongo's DuplicateKeyError, events staged in the document's `_outbox`), and an outbox
whose flush moves a document's staged events to `published`, as the relay does."""

import builtins
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from pymongo.errors import DuplicateKeyError

from aigw.common.actor import Actor
from aigw.common.crypto import SecretBox, generate_master_key
from aigw.common.events import Envelope
from aigw.common.outbox import DELETED, OUTBOX, with_outbox
from aigw.publisher.apis.repository import (
    COLLECTION as APIS,
)
from aigw.publisher.apis.repository import (
    ApiDoc,
    ApiName,
    ApiRepository,
    DeployMark,
    StoredApi,
)
from aigw.publisher.apis.schemas import ApiIn
from aigw.publisher.apis.service import ApiService
from aigw.publisher.policies.repository import COLLECTION as POLICIES
from aigw.publisher.policies.repository import PolicyDoc, PolicyRepository, StoredPolicy
from aigw.publisher.policies.service import PolicyService
from aigw.publisher.vendors.catalog import VendorCatalog
from aigw.publisher.vendors.repository import COLLECTION as VENDORS
from aigw.publisher.vendors.repository import StoredVendor, VendorDoc, VendorRepository, vendor_key
from aigw.publisher.vendors.service import VendorService

Doc = dict[str, Any]


class MemoryCollection:
    """Documents by `_id`; `unique` names the field a unique index guards."""

    def __init__(self, unique: str) -> None:
        self.docs: dict[Any, Doc] = {}
        self._unique = unique

    def insert(self, doc: Doc) -> None:
        if doc["_id"] in self.docs:
            raise DuplicateKeyError("duplicate _id")
        self._check_unique(doc)
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    def find(self, match: Callable[[Doc], bool]) -> list[Doc]:
        """Live documents matching, oldest first, without their staged events."""
        found = [d for d in self.docs.values() if not d.get(DELETED) and match(d)]
        found.sort(key=lambda d: d.get("created_time") or 0)
        return [_read(d) for d in found]

    def update(self, doc_id: Any, update: Doc) -> Doc:
        """Apply `update` (MongoDB operators) to the document; the document after it."""
        after = _updated(self.docs[doc_id], update)
        self._check_unique(after)
        self.docs[doc_id] = after
        return _read(after)

    def staged(self, doc_id: Any) -> list[Envelope]:
        return [Envelope.model_validate(raw) for raw in self.docs[doc_id].get(OUTBOX, [])]

    def _check_unique(self, doc: Doc) -> None:
        key = doc.get(self._unique)
        for other in self.docs.values():
            if other["_id"] != doc["_id"] and key is not None and other.get(self._unique) == key:
                raise DuplicateKeyError(f"duplicate {self._unique}: {key}")


def _read(doc: Doc) -> Doc:
    return {k: copy.deepcopy(v) for k, v in doc.items() if k != OUTBOX}


def _updated(doc: Doc, update: Doc) -> Doc:
    after = copy.deepcopy(doc)
    for path, value in update.get("$set", {}).items():
        parent, name = _parent(after, path)
        parent[name] = copy.deepcopy(value)
    for path in update.get("$unset", {}):
        parent, name = _parent(after, path)
        parent.pop(name, None)
    for path, by in update.get("$inc", {}).items():
        parent, name = _parent(after, path)
        parent[name] = parent.get(name, 0) + by
    for path, push in update.get("$push", {}).items():
        parent, name = _parent(after, path)
        parent.setdefault(name, []).extend(copy.deepcopy(push["$each"]))
        if "$slice" in push:  # only the negative (newest) form is used
            parent[name] = parent[name][push["$slice"] :]
    return after


def _parent(doc: Doc, path: str) -> tuple[Doc, str]:
    *parents, name = path.split(".")
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    return node, name


class MemoryApis(ApiRepository):
    """The `apis` collection (unique `route_key`)."""

    def __init__(self) -> None:
        self.coll = MemoryCollection(unique="route_key")

    async def insert(self, api: ApiDoc, *events: Envelope) -> StoredApi:
        doc: StoredApi = {**api, "_v": 1}
        self.coll.insert(with_outbox(cast(Doc, doc), *events))
        return doc

    async def get(self, api_id: str) -> StoredApi | None:
        found = self.coll.find(lambda d: d["_id"] == api_id)
        return cast(StoredApi, found[0]) if found else None

    async def list(self, member: str | None = None) -> builtins.list[StoredApi]:
        def match(doc: Doc) -> bool:
            return member is None or member in (doc.get("owner"), *doc.get("co_owners", ()))

        return cast(list[StoredApi], self.coll.find(match))

    async def count_offering(self, policy: str) -> int:
        return len(self.coll.find(lambda d: policy in d.get("policies", [])))

    async def deploy_mark(self, api_id: str, mark: str) -> DeployMark | None:
        doc = await self.get(api_id)
        marks = doc.get("deploy_marks", []) if doc is not None else []
        return next((m for m in marks if m["mark"] == mark), None)

    async def using_vendor(self, name: str, version: str) -> builtins.list[ApiName]:
        wanted = {"name": name, "version": version}
        return [
            ApiName(d["_id"], d["name"]) for d in self.coll.find(lambda d: d["vendor"] == wanted)
        ]

    async def apply(self, api_id: str, read_version: int, update: Doc) -> StoredApi | None:
        current = await self.get(api_id)
        if current is None or current["_v"] != read_version:
            return None
        increments = {**update.get("$inc", {}), "_v": 1}
        return cast(StoredApi, self.coll.update(api_id, {**update, "$inc": increments}))


class MemoryPolicies(PolicyRepository):
    """The `subscription_policies` collection (unique `name_key`) and the seed marks."""

    def __init__(self) -> None:
        self.coll = MemoryCollection(unique="name_key")
        self.seeded: set[str] = set()

    async def insert(self, policy: PolicyDoc, *events: Envelope) -> StoredPolicy:
        doc: StoredPolicy = {**policy, "name_key": policy["name"]}
        self.coll.insert(with_outbox(cast(Doc, doc), *events))
        return doc

    async def get(self, name: str) -> StoredPolicy | None:
        found = self.coll.find(lambda d: d["name_key"] == name)
        return cast(StoredPolicy, found[0]) if found else None

    async def list_all(self) -> list[StoredPolicy]:
        return cast(list[StoredPolicy], self.coll.find(lambda _: True))

    async def existing(self, names: list[str]) -> set[str]:
        return {d["name"] for d in self.coll.find(lambda d: d["name_key"] in names)}

    async def change(self, name: str, update: Doc) -> StoredPolicy | None:
        current = await self.get(name)
        return (
            None
            if current is None
            else cast(StoredPolicy, self.coll.update(current["_id"], update))
        )

    async def retire(self, doc_id: str, fields: Doc, staged_events: Doc) -> bool:
        if not self.coll.find(lambda d: d["_id"] == doc_id):
            return False
        marks = {**fields, DELETED: True, "name_key": f"deleted:{doc_id}"}
        self.coll.update(doc_id, {"$set": marks, **staged_events})
        return True

    async def was_seeded(self, name: str) -> bool:
        return name in self.seeded

    async def mark_seeded(self, name: str) -> None:
        self.seeded.add(name)


class MemoryVendors(VendorRepository):
    """The `ai_vendors` collection (unique `vendor_key`)."""

    def __init__(self) -> None:
        self.coll = MemoryCollection(unique="vendor_key")

    async def insert(self, vendor: VendorDoc, *events: Envelope) -> None:
        doc: StoredVendor = {**vendor, "vendor_key": vendor_key(vendor["name"], vendor["version"])}
        self.coll.insert(with_outbox(cast(Doc, doc), *events))

    async def get(self, name: str, version: str) -> StoredVendor | None:
        found = self.coll.find(lambda d: d["vendor_key"] == vendor_key(name, version))
        return cast(StoredVendor, found[0]) if found else None

    async def list_all(self) -> list[StoredVendor]:
        return cast(list[StoredVendor], self.coll.find(lambda _: True))

    async def change(self, name: str, version: str, update: Doc) -> StoredVendor | None:
        current = await self.get(name, version)
        if current is None:
            return None
        return cast(StoredVendor, self.coll.update(current["_id"], update))

    async def retire(self, doc_id: str, fields: Doc, staged_events: Doc) -> bool:
        if not self.coll.find(lambda d: d["_id"] == doc_id):
            return False
        marks = {**fields, DELETED: True, "vendor_key": f"deleted:{doc_id}"}
        self.coll.update(doc_id, {"$set": marks, **staged_events})
        return True


class MemoryOutbox:
    """The relay: a flush publishes a document's staged events, in order, and forgets them;
    a deleted document goes once its last event is out."""

    def __init__(self, collections: dict[str, MemoryCollection]) -> None:
        self._collections = collections
        self.published: list[Envelope] = []

    async def try_flush(self, collection: str, doc_id: Any) -> None:
        coll = self._collections[collection]
        doc = coll.docs.get(doc_id)
        if doc is None:
            return
        self.published += coll.staged(doc_id)
        doc[OUTBOX] = []
        if doc.get(DELETED):
            del coll.docs[doc_id]


@dataclass
class MemoryPublisher:
    """The publisher's three services wired as its lifespan wires them, over memory."""

    master_key: str = field(default_factory=generate_master_key)
    dev_mode: bool = False
    api_docs: MemoryApis = field(default_factory=MemoryApis)
    policy_docs: MemoryPolicies = field(default_factory=MemoryPolicies)
    vendor_docs: MemoryVendors = field(default_factory=MemoryVendors)

    def __post_init__(self) -> None:
        self.box = SecretBox(self.master_key)
        self.outbox = MemoryOutbox(
            {
                APIS: self.api_docs.coll,
                POLICIES: self.policy_docs.coll,
                VENDORS: self.vendor_docs.coll,
            }
        )
        outbox = cast(Any, self.outbox)  # the services call only try_flush
        self.policies = PolicyService(self.policy_docs, self.api_docs, outbox)
        self.vendors = VendorService(
            VendorCatalog(self.vendor_docs), self.vendor_docs, self.api_docs, outbox
        )
        self.apis = self.api_service(self.box)

    async def start(self) -> "MemoryPublisher":
        """As the lifespan starts it: the default plans seeded (their events left out of
        `events()`, which then holds only what the test did)."""
        await self.policies.seed_defaults()
        self.outbox.published.clear()
        return self

    def api_service(self, box: SecretBox) -> ApiService:
        """An API service over the same documents (e.g. with another master key)."""
        return ApiService(
            self.api_docs,
            cast(Any, self.outbox),
            box,
            self.vendors.catalog,
            dev_mode=self.dev_mode,
            check_policies=self.policies.check_exist,
        )

    def events(self, event_type: str | None = None) -> builtins.list[Envelope]:
        """What reached the stream, oldest first (of one type)."""
        return [e for e in self.outbox.published if event_type in (None, e.type)]

    def staged(self) -> builtins.list[Envelope]:
        """Events written but not flushed: none, after every use case."""
        return [
            event
            for coll in (self.api_docs.coll, self.policy_docs.coll, self.vendor_docs.coll)
            for doc_id in coll.docs
            for event in coll.staged(doc_id)
        ]


def actor(subject: str, *, admin: bool = False) -> Actor:
    """An actor with a correlation id of its own, to tell its events apart."""
    return Actor(subject, correlation_id=f"corr-{subject}", admin=admin)


def api_body(**overrides: Any) -> ApiIn:
    """A valid API definition (public https endpoints: accepted outside dev mode too)."""
    body = {
        "name": "Mistral",
        "context": "mistralaiapi",
        "version": "0.0.2",
        "aiVendor": {"name": "MistralAI", "version": "v1"},
        "endpoints": {
            "production": "https://api.mistral.ai",
            "sandbox": "https://sandbox.mistral.ai",
        },
    }
    return ApiIn.model_validate({**body, **overrides})
