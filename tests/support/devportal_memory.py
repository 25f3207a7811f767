"""In-memory stand-ins for devportal's repositories and outbox, for the use-case unit tests
(tests/devportal/unit): the same methods and answers as the MongoDB ones, no I/O.

Each repository keeps the events a write staged per document (`staged`), as the outbox fields
of the real documents do; `MemoryOutbox.try_flush` moves them, in order, to `published`, which
is what the relay would have put on the stream. The uniqueness the real collections get from
their unique indexes is kept here by looking at the live documents.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from aigw.common.crypto import generate_master_key
from aigw.common.events import Envelope
from aigw.common.outbox import Outbox
from aigw.devportal.applications import repository as applications
from aigw.devportal.applications.repository import ApplicationDoc, ApplicationRepository
from aigw.devportal.applications.service import ApplicationService
from aigw.devportal.catalog import repository as catalog
from aigw.devportal.catalog.repository import (
    CatalogEntry,
    CatalogRepository,
    Listing,
    VendorRefDoc,
)
from aigw.devportal.catalog.service import CatalogService
from aigw.devportal.keymanager import KeymanagerClient
from aigw.devportal.keys.service import KeyService
from aigw.devportal.oauth.service import OAuthKeyService
from aigw.devportal.policies.repository import PlanDoc, PlanFields, PolicyRepository
from aigw.devportal.subscriptions import repository as subscriptions
from aigw.devportal.subscriptions.repository import SubscriptionDoc, SubscriptionRepository
from aigw.devportal.subscriptions.service import SubscriptionService
from aigw.devportal.vendors.repository import VendorDefinitionDoc, VendorDefinitionRepository
from aigw.devportal.vendors.service import VendorDefinitionService
from tests.support.fake_keymanager import FakeKeymanager


class _Staging:
    collection: str

    def __init__(self) -> None:
        self.staged: dict[str, list[Envelope]] = {}

    def stage(self, doc_id: str, event: Envelope) -> None:
        self.staged.setdefault(doc_id, []).append(event)


class MemoryApplications(_Staging, ApplicationRepository):
    collection = applications.COLLECTION

    def __init__(self) -> None:
        super().__init__()
        self.docs: dict[str, ApplicationDoc] = {}
        self.deleted: set[str] = set()

    async def ensure_indexes(self) -> None:
        pass

    async def insert(self, app: ApplicationDoc, event: Envelope) -> bool:
        live = (doc for doc in self.docs.values() if doc["owner"] == app["owner"])
        if any(doc["name"] == app["name"] for doc in live):
            return False
        self.docs[app["_id"]] = app
        self.stage(app["_id"], event)
        return True

    async def find_owned(self, owner: str, app_id: str) -> ApplicationDoc | None:
        doc = self.docs.get(app_id)
        return doc if doc is not None and doc["owner"] == owner else None

    async def list_owned(self, owner: str) -> list[ApplicationDoc]:
        return [doc for doc in self.docs.values() if doc["owner"] == owner]

    async def mark_deleted(self, owner: str, app_id: str, event: Envelope) -> bool:
        if await self.find_owned(owner, app_id) is None:
            return False
        del self.docs[app_id]
        self.deleted.add(app_id)
        self.stage(app_id, event)
        return True


class MemorySubscriptions(_Staging, SubscriptionRepository):
    collection = subscriptions.COLLECTION

    def __init__(self) -> None:
        super().__init__()
        self.docs: dict[str, SubscriptionDoc] = {}

    async def ensure_indexes(self) -> None:
        pass

    async def insert(self, sub: SubscriptionDoc, event: Envelope) -> bool:
        pair = (sub["application_id"], sub["api_id"])
        if any((d["application_id"], d["api_id"]) == pair for d in self.docs.values()):
            return False
        self.docs[sub["_id"]] = sub
        self.stage(sub["_id"], event)
        return True

    async def find_owned(self, owner: str, sub_id: str) -> SubscriptionDoc | None:
        doc = self.docs.get(sub_id)
        return doc if doc is not None and doc["owner"] == owner else None

    async def list_owned(self, owner: str, application_id: str | None) -> list[SubscriptionDoc]:
        return [
            doc
            for doc in self.docs.values()
            if doc["owner"] == owner and application_id in (None, doc["application_id"])
        ]

    async def change_policy(
        self, sub_id: str, policy: str, event: Envelope
    ) -> SubscriptionDoc | None:
        doc = self.docs.get(sub_id)
        if doc is None:
            return None
        self.docs[sub_id] = {**doc, "policy": policy}
        self.stage(sub_id, event)
        return self.docs[sub_id]

    async def mark_deleted(self, sub_id: str, event: Envelope) -> bool:
        if self.docs.pop(sub_id, None) is None:
            return False
        self.stage(sub_id, event)
        return True


class MemoryCatalog(CatalogRepository):
    """The catalogue's writes as the projection makes them, in call order (`writes`), and
    the listed APIs they leave."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, str, int, dict[str, Any]]] = []

    async def publish(self, api_id: str, at: int, listing: Listing, route_prefix: str) -> bool:
        fields = {**listing, "route_prefix": route_prefix, "deleted": False}
        self.writes.append(("publish", api_id, at, fields))
        self.entries[api_id] = {"_id": api_id, **fields}
        return True

    async def update(
        self, api_id: str, at: int, listing: Listing, route_prefix: str | None
    ) -> bool:
        fields: dict[str, Any] = {
            **listing,
            **({"route_prefix": route_prefix} if route_prefix else {}),
        }
        self.writes.append(("update", api_id, at, fields))
        if api_id not in self.entries or self.entries[api_id].get("deleted"):
            return False
        self.entries[api_id].update(fields)
        return True

    async def tombstone(self, api_id: str, at: int) -> bool:
        fields = {"listed": False, "deleted": True}
        self.writes.append(("tombstone", api_id, at, fields))
        self.entries.setdefault(api_id, {"_id": api_id}).update(fields)
        return True

    async def find_listed(self, api_id: str) -> CatalogEntry | None:
        entry = self.entries.get(api_id)
        return _entry(entry) if entry is not None and entry.get("listed") else None

    async def list_listed(self) -> list[CatalogEntry]:
        return [_entry(e) for e in self.entries.values() if e.get("listed")]


def _entry(raw: Mapping[str, Any]) -> CatalogEntry:
    return CatalogEntry(
        _id=raw["_id"],
        name=raw["name"],
        context=raw["context"],
        version=raw["version"],
        route_prefix=raw["route_prefix"],
        vendor=raw["vendor"],
        description=raw["description"],
        lifecycle_status=raw["lifecycle_status"],
        policies=raw["policies"] or [catalog.UNLIMITED],
    )


class MemoryPlans(PolicyRepository):
    def __init__(self) -> None:
        self.plans: dict[str, PlanFields] = {}

    async def upsert_if_newer(self, name: str, at: int, plan: PlanFields) -> bool:
        self.plans[name] = plan
        return True

    async def list_live(self) -> list[PlanDoc]:
        return [
            PlanDoc(
                name=name,
                description=plan["description"],
                limits=plan["limits"],
                default_completion_tokens=plan["default_completion_tokens"],
            )
            for name, plan in sorted(self.plans.items())
            if not plan["deleted"]
        ]


class MemoryVendorDefinitions(VendorDefinitionRepository):
    def __init__(self) -> None:
        self.definitions: dict[tuple[str, str], VendorDefinitionDoc] = {}

    async def upsert_if_newer(
        self, name: str, version: str, at: int, definition: VendorDefinitionDoc
    ) -> bool:
        self.definitions[(name, version)] = definition
        return True

    async def api_definition(self, name: str, version: str) -> dict[str, Any] | None:
        doc = self.definitions.get((name, version))
        return None if doc is None or doc["deleted"] else doc["api_definition"]


class MemoryOutbox(Outbox):
    """Publishes what the repositories staged, when a use case flushes a document."""

    def __init__(self, *repositories: _Staging) -> None:
        self._repositories = {repo.collection: repo for repo in repositories}
        self.published: list[Envelope] = []

    async def try_flush(self, collection: str, doc_id: Any) -> None:
        self.published.extend(self._repositories[collection].staged.pop(doc_id, []))

    def payloads(self) -> list[tuple[str, dict[str, Any]]]:
        """What went out, as (type, data) in stream order."""
        return [(event.type, event.data) for event in self.published]


@dataclass
class StoodInKeymanager:
    """devportal's keymanager client over the stand-in (httpx.MockTransport: in memory),
    acting for a caller as the `Keymanager` dependency does."""

    fake: FakeKeymanager = field(default_factory=FakeKeymanager)
    authorization: str = "Bearer alice-token"
    correlation_id: str = "corr-keys"

    def client(self) -> KeymanagerClient:
        transport = httpx.MockTransport(self.fake.handle)
        own = KeymanagerClient.connect("http://keymanager", generate_master_key(), transport)
        return own.acting_for(self.authorization, self.correlation_id)


class MemoryDevportal:
    """devportal's use cases wired as its lifespan wires them, over the stand-ins above."""

    def __init__(self, *, test_key_ttl_seconds: int = 3600) -> None:
        self.applications_repo = MemoryApplications()
        self.subscriptions_repo = MemorySubscriptions()
        self.catalog_repo = MemoryCatalog()
        self.vendor_definitions = MemoryVendorDefinitions()
        self.outbox = MemoryOutbox(self.applications_repo, self.subscriptions_repo)
        self.catalog = CatalogService(
            self.catalog_repo,
            VendorDefinitionService(self.vendor_definitions),
            test_key_ttl_seconds=test_key_ttl_seconds,
        )
        self.subscriptions = SubscriptionService(
            self.subscriptions_repo, self.applications_repo, self.catalog, self.outbox
        )
        self.applications = ApplicationService(
            self.applications_repo, self.subscriptions, self.outbox
        )
        self.keys = KeyService(self.applications_repo)
        self.oauth = OAuthKeyService(self.applications_repo)

    async def publish_api(self, api_id: str, *policies: str) -> None:
        """An API in the catalogue, as its published event would leave it."""
        vendor = VendorRefDoc(name="MistralAI", version="v1")
        listing = Listing(
            name=f"api-{api_id}",
            context=f"api-{api_id}",
            version="1.0.0",
            vendor=vendor,
            description="",
            lifecycle_status="PUBLISHED",
            policies=list(policies),
            listed=True,
        )
        await self.catalog_repo.publish(api_id, 1, listing, f"api-{api_id}/1.0.0")
