"""The publisher's FastAPI app: AI vendors and AI APIs, on the shared service skeleton."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.datastructures import State

from aigw.common.auth import FetchJwks
from aigw.common.idempotency import IdempotencyStore
from aigw.common.portal_service import PortalService, create_portal_app
from aigw.common.runtime import ServiceRuntime
from aigw.publisher.apis import endpoints as api_endpoints
from aigw.publisher.apis.repository import COLLECTION, ApiRepository
from aigw.publisher.apis.service import ApiService
from aigw.publisher.audit import endpoints as audit_endpoints
from aigw.publisher.audit.follower import AuditFollower
from aigw.publisher.audit.repository import AuditRepository
from aigw.publisher.audit.service import AuditService
from aigw.publisher.policies import endpoints as policy_endpoints
from aigw.publisher.policies import repository as policy_repository
from aigw.publisher.policies.service import PolicyService
from aigw.publisher.settings import Settings
from aigw.publisher.usage import endpoints as usage_endpoints
from aigw.publisher.usage.service import UsageService
from aigw.publisher.vendors import endpoints as vendor_endpoints
from aigw.publisher.vendors import repository as vendor_repository
from aigw.publisher.vendors.catalog import VendorCatalog
from aigw.publisher.vendors.service import VendorService

PREFIX = "/api/publisher/v1"
OUTBOX_COLLECTIONS = [COLLECTION, policy_repository.COLLECTION, vendor_repository.COLLECTION]


def _api_router() -> APIRouter:
    """Every route of the publisher's API, under its one prefix."""
    api = APIRouter(prefix=PREFIX)
    for module in (vendor_endpoints, api_endpoints, policy_endpoints, usage_endpoints):
        api.include_router(module.router)
    return api


def _audit_router() -> APIRouter:
    """The audit trail: its own API (every signed-in user reads part of it), served here."""
    audit = APIRouter(prefix=audit_endpoints.PREFIX)
    audit.include_router(audit_endpoints.router)
    return audit


def create_app(settings: Settings, *, jwks_fetcher: FetchJwks | None = None) -> FastAPI:
    async def build(state: State, runtime: ServiceRuntime, stack: AsyncExitStack) -> None:
        await build_use_cases(state, runtime, settings)
        await stack.enter_async_context(audit_followed(state, runtime))

    service = PortalService(
        title="aigw publisher",
        description="AI vendors and AI APIs: create, secure, deploy and publish.",
        database=settings.mongodb_db,
        outbox_collections=OUTBOX_COLLECTIONS,
        routers=[_api_router(), _audit_router()],
        portals={"publisher": "publisher.html", "admin": "admin.html"},
        build=build,
    )
    return create_portal_app(settings, service, jwks_fetcher=jwks_fetcher)


async def build_use_cases(state: State, runtime: ServiceRuntime, settings: Settings) -> None:
    """The domains' services, built once per app and kept on `app.state` (aigw.publisher.deps
    hands them to the endpoints), with the collections' indexes in place."""
    repo = ApiRepository(runtime.db)
    await repo.ensure_indexes()
    policies = await _policies(runtime, repo)
    vendors = await _vendors(runtime, repo)
    state.policies = policies
    state.vendors = vendors
    state.apis = apis = ApiService(
        repo,
        runtime.outbox,
        settings.secret_box(),
        vendors.catalog,
        dev_mode=settings.dev_mode,
        check_policies=policies.check_exist,
    )
    state.usage = UsageService(apis, runtime.db, AuditRepository(runtime.db))
    state.idempotency = keys = IdempotencyStore(runtime.db)
    await keys.ensure_indexes()


@asynccontextmanager
async def audit_followed(state: State, runtime: ServiceRuntime) -> AsyncIterator[None]:
    """The audit trail's service, its projection folded from the events stream while the app
    runs (in the background: only the audit API waits for it)."""
    repo = AuditRepository(runtime.db)
    await repo.ensure_indexes()
    follower = AuditFollower(runtime.broker.connection, runtime.verifier, repo, runtime.reconnects)
    state.audit = AuditService(repo, ApiRepository(runtime.db), follower)
    follower.start()
    try:
        yield
    finally:
        await follower.stop()


async def _policies(runtime: ServiceRuntime, apis: ApiRepository) -> PolicyService:
    """The plans service, with the default plans seeded (once per database)."""
    repo = policy_repository.PolicyRepository(runtime.db)
    await repo.ensure_indexes()
    service = PolicyService(repo, apis, runtime.outbox)
    await service.seed_defaults()
    return service


async def _vendors(runtime: ServiceRuntime, apis: ApiRepository) -> VendorService:
    """The AI vendors service: the built-ins and the custom vendors in this database."""
    repo = vendor_repository.VendorRepository(runtime.db)
    await repo.ensure_indexes()
    return VendorService(VendorCatalog(repo), repo, apis, runtime.outbox)
