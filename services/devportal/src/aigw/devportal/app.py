"""devportal's FastAPI app: the published-API catalogue (built from events), applications,
subscriptions, and API keys issued through keymanager."""

from contextlib import AsyncExitStack, aclosing

import httpx
from fastapi import APIRouter, FastAPI
from faststream.nats import NatsRouter
from starlette.datastructures import State

from aigw.common.auth import FetchJwks
from aigw.common.portal_service import PortalService, create_portal_app
from aigw.common.runtime import ServiceRuntime
from aigw.common.tracing.client import TracedTransport
from aigw.devportal.applications import endpoints as applications_endpoints
from aigw.devportal.applications import repository as application_repository
from aigw.devportal.applications.service import ApplicationService
from aigw.devportal.catalog import endpoints as catalog_endpoints
from aigw.devportal.catalog.projection import CATALOG, catalog_router
from aigw.devportal.catalog.repository import CatalogRepository
from aigw.devportal.catalog.service import CatalogService
from aigw.devportal.keymanager import KeymanagerClient
from aigw.devportal.keys import endpoints as keys_endpoints
from aigw.devportal.keys.service import KeyService
from aigw.devportal.oauth import endpoints as oauth_endpoints
from aigw.devportal.oauth.service import OAuthKeyService
from aigw.devportal.policies import endpoints as policies_endpoints
from aigw.devportal.policies.projection import policies_router
from aigw.devportal.policies.repository import PolicyRepository
from aigw.devportal.policies.service import PolicyService
from aigw.devportal.projection import read_model_current
from aigw.devportal.settings import Settings
from aigw.devportal.signup import endpoints as signup_endpoints
from aigw.devportal.signup.service import SignupService
from aigw.devportal.subscriptions import endpoints as subscriptions_endpoints
from aigw.devportal.subscriptions import repository as subscription_repository
from aigw.devportal.subscriptions.service import SubscriptionService
from aigw.devportal.usage import endpoints as usage_endpoints
from aigw.devportal.usage.service import UsageService
from aigw.devportal.vendors.projection import vendors_router
from aigw.devportal.vendors.repository import VendorDefinitionRepository
from aigw.devportal.vendors.service import VendorDefinitionService

# Every devportal endpoint is under this one prefix; the domains' routers name only their part.
API_PREFIX = "/api/devportal/v1"
OUTBOX_COLLECTIONS = [application_repository.COLLECTION, subscription_repository.COLLECTION]


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for part in (
        catalog_endpoints.router,
        applications_endpoints.router,
        keys_endpoints.router,
        oauth_endpoints.router,
        subscriptions_endpoints.router,
        policies_endpoints.router,
        usage_endpoints.router,
        signup_endpoints.router,
    ):
        router.include_router(part)
    return router


def event_router(database: str) -> NatsRouter:
    """The read models' consumers: the catalogue, the vendors' API definitions, the business
    plans (usage records are every portal service's: aigw.common.portal_service)."""
    router = NatsRouter()
    router.include_router(catalog_router(database))
    router.include_router(vendors_router(database))
    router.include_router(policies_router(database))
    return router


async def build_use_cases(
    state: State, runtime: ServiceRuntime, keymanager: KeymanagerClient, settings: Settings
) -> None:
    """The domains' services, built once per app and kept on `app.state` (aigw.devportal.deps
    hands them to the endpoints)."""
    db = runtime.db
    apps = application_repository.ApplicationRepository(db)
    subs = subscription_repository.SubscriptionRepository(db)
    await apps.ensure_indexes()
    await subs.ensure_indexes()
    vendors = VendorDefinitionService(VendorDefinitionRepository(db))
    catalogue = CatalogService(
        CatalogRepository(db),
        vendors,
        test_key_ttl_seconds=settings.test_key_ttl_seconds,
        current=lambda: read_model_current(runtime.broker.connection, CATALOG, settings.mongodb_db),
    )
    subscriptions = SubscriptionService(subs, apps, catalogue, runtime.outbox)
    state.catalog = catalogue
    state.subscriptions = subscriptions
    state.applications = ApplicationService(apps, subscriptions, runtime.outbox)
    state.policies = PolicyService(PolicyRepository(db))
    state.keys = KeyService(apps)
    state.oauth = OAuthKeyService(apps)
    state.usage = UsageService(apps, CatalogRepository(db), db)
    state.signup = SignupService(
        keymanager,
        db,
        enabled=settings.signup_enabled,
        per_minute=settings.signup_per_minute,
    )


def create_app(
    settings: Settings,
    *,
    jwks_fetcher: FetchJwks | None = None,
    keymanager_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    async def build(state: State, runtime: ServiceRuntime, held: AsyncExitStack) -> None:
        secret = settings.secret_key.get_secret_value()
        transport = keymanager_transport
        if state.tracer is not None:  # keymanager's spans become children of devportal's
            transport = TracedTransport(state.tracer, transport)
        client = KeymanagerClient.connect(settings.keymanager_url, secret, transport)
        keymanager = await held.enter_async_context(aclosing(client))
        state.keymanager = keymanager
        await build_use_cases(state, runtime, keymanager, settings)

    service = PortalService(
        title="aigw devportal",
        description=__doc__ or "",
        database=settings.mongodb_db,
        outbox_collections=OUTBOX_COLLECTIONS,
        routers=[api_router()],
        portals={"devportal": "devportal.html"},
        build=build,
        consumers=event_router,
    )
    return create_portal_app(settings, service, jwks_fetcher=jwks_fetcher)
