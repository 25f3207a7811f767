"""The publisher's FastAPI app: AI vendors and AI APIs, on the shared service skeleton."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from aigw.common.auth import FetchJwks, JwksCache, TokenVerifier, http_jwks_fetcher
from aigw.common.requests import runtime_ready
from aigw.common.runtime import ServiceRuntime
from aigw.common.service_app import create_service_app
from aigw.publisher.apis import endpoints as api_endpoints
from aigw.publisher.apis.repository import COLLECTION, ApiRepository
from aigw.publisher.apis.service import ApiService
from aigw.publisher.settings import Settings
from aigw.publisher.vendors import endpoints as vendor_endpoints
from aigw.publisher.vendors.catalog import VendorCatalog


def create_app(settings: Settings, *, jwks_fetcher: FetchJwks | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(
            settings, database=settings.mongodb_db, outbox_collections=[COLLECTION]
        )
        async with runtime:
            repo = ApiRepository(runtime.db)
            await repo.ensure_indexes()
            box = settings.secret_box()
            app.state.runtime = runtime
            app.state.apis = ApiService(
                repo, runtime.outbox, box, app.state.vendors, dev_mode=settings.dev_mode
            )
            yield

    app = create_service_app(
        title="aigw publisher",
        description="AI vendors and AI APIs: create, secure, deploy and publish.",
        lifespan=lifespan,
        routers=[vendor_endpoints.router, api_endpoints.router],
        ready=runtime_ready,
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_origin_list,
    )
    app.state.settings = settings
    app.state.vendors = VendorCatalog()
    app.state.verifier = TokenVerifier(
        JwksCache(jwks_fetcher or http_jwks_fetcher(settings.keymanager_url))
    )
    return app
