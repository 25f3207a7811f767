"""devportal's FastAPI app: the published-API catalogue (built from events), applications,
subscriptions, and API keys issued through keymanager."""

from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI
from faststream.nats import NatsRouter

from aigw.common.auth import FetchJwks, JwksCache, TokenVerifier, http_jwks_fetcher
from aigw.common.runtime import ServiceRuntime
from aigw.common.service_app import create_service_app
from aigw.common.standing import AccountStandings, followed, standing_ready
from aigw.common.usage import store as usage_store
from aigw.common.usage.consumer import usage_router
from aigw.common.web import DEFAULT_WEB_DIR, Portals, mount_portals, public_apis
from aigw.devportal.applications import routes as applications
from aigw.devportal.applications import store as application_store
from aigw.devportal.catalog import routes as catalog
from aigw.devportal.catalog.handlers import catalog_router
from aigw.devportal.keymanager import KeymanagerClient
from aigw.devportal.keys import routes as keys
from aigw.devportal.oauth import routes as oauth_keys
from aigw.devportal.policies import routes as policies
from aigw.devportal.policies.handlers import policies_router
from aigw.devportal.settings import Settings
from aigw.devportal.signup import routes as signup
from aigw.devportal.subscriptions import routes as subscriptions
from aigw.devportal.subscriptions import store as subscription_store
from aigw.devportal.usage import routes as usage
from aigw.devportal.vendors.handlers import vendors_router

API_PREFIX = "/api/devportal/v1"
OUTBOX_COLLECTIONS = [application_store.COLLECTION, subscription_store.COLLECTION]


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for part in (
        catalog.router,
        applications.router,
        keys.router,
        oauth_keys.router,
        subscriptions.router,
        policies.router,
        usage.router,
    ):
        router.include_router(part)
    router.include_router(signup.router)
    return router


def event_router(database: str) -> NatsRouter:
    """The portal's event consumers: the catalogue, the vendors' API definitions, the
    business plans and usage records."""
    router = NatsRouter()
    router.include_router(catalog_router(database))
    router.include_router(vendors_router(database))
    router.include_router(policies_router(database))
    router.include_router(usage_router("devportal", database))
    return router


def create_app(
    settings: Settings,
    *,
    jwks_fetcher: FetchJwks | None = None,
    keymanager_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    standings = AccountStandings()  # who may still use a token: from the user events

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(
            settings,
            database=settings.mongodb_db,
            outbox_collections=OUTBOX_COLLECTIONS,
            router=event_router(settings.mongodb_db),
            registry=app.state.metrics_registry,
        )
        keymanager = KeymanagerClient.connect(
            settings.keymanager_url, settings.secret_key.get_secret_value(), keymanager_transport
        )
        async with runtime, aclosing(keymanager), followed(runtime, standings):
            await application_store.ensure_indexes(runtime.db)
            await subscription_store.ensure_indexes(runtime.db)
            await usage_store.ensure_indexes(runtime.db, settings.usage_retention_days)
            app.state.runtime = runtime
            app.state.keymanager = keymanager
            yield

    app = create_service_app(
        title="aigw devportal",
        description=__doc__ or "",
        lifespan=lifespan,
        routers=[api_router()],
        ready=standing_ready,
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_origin_list,
        web_dir=settings.web_dir,
    )
    app.state.settings = settings
    app.state.standings = standings
    mount_portals(
        app,
        settings.web_dir or DEFAULT_WEB_DIR,
        Portals({"devportal": "devportal.html"}, public_apis(settings)),
    )
    fetch = jwks_fetcher or http_jwks_fetcher(settings.keymanager_url)
    app.state.verifier = TokenVerifier(
        JwksCache(fetch, refresh_seconds=settings.jwks_refresh_seconds),
        check_claims=standings.check_claims(),
    )
    return app
