"""The app of a service that serves a portal (publisher, devportal), on the shared skeleton
(aigw.common.service_app): keymanager's management tokens of accounts that still stand
(aigw.common.standing), the portal pages (aigw.common.web), the gateways' usage records, and a
lifespan that runs the service's runtime with the account standings followed. What tells the
two services apart is a `PortalService`."""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from faststream.nats import NatsRouter
from starlette.datastructures import State

from aigw.common.auth import FetchJwks
from aigw.common.mongo import add_store_error_handler
from aigw.common.runtime import ServiceRuntime
from aigw.common.service_app import Lifespan, create_service_app
from aigw.common.settings import KeymanagerClientSettings, PortalSettings, UsageStoreSettings
from aigw.common.standing import (
    AccountStandings,
    HttpJwks,
    followed,
    standing_ready,
    standing_verifier,
)
from aigw.common.tracing.settings import TracingSettings
from aigw.common.usage import store as usage_store
from aigw.common.usage.consumer import usage_router
from aigw.common.web import DEFAULT_WEB_DIR, Portals, mount_portals, public_apis

# Builds the service's use cases onto `app.state` once the runtime runs; what they hold open
# (a client of another service) is entered into the exit stack, closed when the app stops.
BuildUseCases = Callable[[State, ServiceRuntime, AsyncExitStack], Awaitable[None]]


class PortalServiceSettings(
    UsageStoreSettings, KeymanagerClientSettings, PortalSettings, TracingSettings
):
    """The settings groups every service that serves a portal inherits."""


@dataclass(frozen=True, slots=True)
class PortalService:
    title: str
    description: str
    database: str
    outbox_collections: Sequence[str]
    routers: Sequence[APIRouter]
    portals: Mapping[str, str]  # portal name -> its page in the web build
    build: BuildUseCases
    # the service's own event consumers, given its database (a new router per start: a
    # FastStream router belongs to the one broker it is included in); usage records are added
    consumers: Callable[[str], NatsRouter] | None = None


def create_portal_app(
    settings: PortalServiceSettings, service: PortalService, *, jwks_fetcher: FetchJwks | None
) -> FastAPI:
    standings = AccountStandings()  # who may still use a token: from the user events
    http_jwks = HttpJwks(settings.keymanager_url)  # opens a client only if it fetches
    app = create_service_app(
        title=service.title,
        description=service.description,
        lifespan=_lifespan(settings, service, standings, http_jwks),
        routers=service.routers,
        ready=standing_ready,
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_origin_list,
        web_dir=settings.web_dir,
        tracer=settings.tracer(),
    )
    add_store_error_handler(app)
    app.state.settings = settings
    app.state.standings = standings
    portals = Portals(dict(service.portals), public_apis(settings))
    mount_portals(app, settings.web_dir or DEFAULT_WEB_DIR, portals)
    app.state.verifier = standing_verifier(settings, standings, jwks_fetcher or http_jwks)
    return app


def _lifespan(
    settings: PortalServiceSettings,
    service: PortalService,
    standings: AccountStandings,
    http_jwks: HttpJwks,
) -> Lifespan:
    """The runtime (NATS, the store, the outbox relay, the event consumers) and the services,
    built once when the app starts; the account standings followed while it runs; the JWKS
    client closed when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(
            settings,
            database=service.database,
            outbox_collections=service.outbox_collections,
            router=_event_router(settings.IDENTITY, service),
            registry=app.state.metrics_registry,
        )
        async with runtime, followed(runtime, standings), AsyncExitStack() as held:
            held.push_async_callback(http_jwks.aclose)
            await usage_store.ensure_indexes(
                runtime.db, settings.usage_retention_days, settings.usage_calls_retention_days
            )
            await usage_store.backfill_rollups(runtime.db)
            await service.build(app.state, runtime, held)
            app.state.runtime = runtime
            yield

    return lifespan


def _event_router(name: str, service: PortalService) -> NatsRouter:
    router = NatsRouter()
    if service.consumers is not None:
        router.include_router(service.consumers(service.database))
    router.include_router(usage_router(name, service.database))
    return router
