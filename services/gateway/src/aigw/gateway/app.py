"""The gateway's ASGI app: a lean dispatcher in front of two handlers.

`/health/*`, `/metrics`, `/openapi.json` and `/docs` go to a small FastAPI app built from
`aigw.common.service_app`; every other request goes straight to the raw-ASGI invocation handler
(`proxy.invoker.Invoker`), so no framework routing or middleware runs on the hot path.

The FastAPI app's lifespan owns the resources: the upstream connection pool used for every
provider call and the event follower that keeps the routing table up to date.

Readiness (`/health/ready`) is the whole process's: the table has replayed the stream up to
where it stood at start, the gateway is not draining, and every worker of the gateway
(`aigw.gateway.workers`) says the same. Until the replay is done an invocation answers 503
`not_ready` with `Retry-After` (never a 404 for an API that is in the stream); while draining
every answer carries `Connection: close`, so keep-alive clients move to another gateway.
"""

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from aigw.common.crypto import derived_key
from aigw.common.event_trust import EventVerifier
from aigw.common.service_app import create_service_app
from aigw.gateway.asgi import Message, Receive, Scope, Send
from aigw.gateway.cache.index import CacheIndex
from aigw.gateway.cache.metrics import CacheCollector
from aigw.gateway.cache.policy import CacheOutcomes, cache_compiler
from aigw.gateway.cache.shared import SharedCache
from aigw.gateway.client import AddressPolicy, Pool
from aigw.gateway.embeddings.http import HttpEmbedder
from aigw.gateway.guardrails.compiler import GuardrailCompiler
from aigw.gateway.guardrails.semantic import semantic_guard_factory
from aigw.gateway.metering.recorder import UsageRecorder
from aigw.gateway.metering.spool import UsageSpool
from aigw.gateway.proxy.access_log import AccessLog
from aigw.gateway.proxy.cors import CorsPolicy
from aigw.gateway.proxy.invoker import GatewayState, Invoker
from aigw.gateway.proxy.metrics import GatewayMetrics
from aigw.gateway.proxy.route_policies import PolicyCompiler
from aigw.gateway.proxy.settle import Settlement
from aigw.gateway.proxy.tracing import CallTracing
from aigw.gateway.quota.book import QuotaBook
from aigw.gateway.quota.enforcer import QuotaEnforcer
from aigw.gateway.quota.sync import QuotaSync
from aigw.gateway.routing.follower import EventFollower
from aigw.gateway.routing.shared_snapshot import SharedSnapshots
from aigw.gateway.routing.snapshot import SnapshotFile
from aigw.gateway.settings import Settings
from aigw.gateway.workers import WorkerBoard

log = logging.getLogger(__name__)

# besides these, /health/* and /docs/* (the docs' assets) go to the management app too
MANAGEMENT_PATHS = frozenset({"/metrics", "/openapi.json", "/docs", "/redoc"})

DESCRIPTION = """The aigw invocation endpoint.

Call a deployed AI API at `/{context}/{version}/<provider path>` (for example
`POST /mistralaiapi/0.0.2/v1/chat/completions`) with the application's key in
`Authorization: Bearer <key>` or `ApiKey: <key>` (Authorization wins when both are sent), or
an OAuth2 access token from keymanager's token endpoint in `Authorization: Bearer <jwt>`.
A PRODUCTION key is sent to the production
endpoint and a SANDBOX key to the sandbox endpoint. The provider's status, body and content
type come back unchanged, and `stream: true` answers arrive as server-sent events.
Gateway errors use the OpenAI shape `{"error": {"message", "type", "code"}}`.

Every answer (refusals and provider errors too) carries `x-request-id`: the caller's, if it
sent a valid one (1 to 128 of `A-Z a-z 0-9 . _ : -`), else a new one. The same id is in the
call's usage record and access-log line and goes to the provider (as `x-request-id`, or the
header the vendor definition names in `requestIdHeader`); the provider's own `x-request-id`
comes back as `x-provider-request-id`.

Only the operations of the API's vendor definition are forwarded: another path is the
gateway's 404 `unknown_operation`, another method 405 `method_not_allowed` with `Allow`.
Request headers are an allow-list (generic ones such as content-type, accept, user-agent,
idempotency-key and the SDKs' `x-stainless-*`, plus the headers the vendor lets callers set);
cookies, forwarding and provider-account headers never reach the provider.
When the provider answers 401 or 403 to the API's own provider key, the caller gets 502
`provider_rejected_credentials` (the publisher's key is at fault, not the caller's); other
provider errors come back unchanged.

Calls are held to the subscription's plan; a test key from the developer portal ("Get Test
Key", valid for one API's production endpoint) to the built-in plan `TestKey`: by default 10
requests and 10,000 total tokens a minute per user and API, shared by all of that user's test
keys (`GATEWAY_TEST_KEY_*` settings). Limited calls carry `x-ratelimit-limit-*`,
`x-ratelimit-remaining-*` and `x-ratelimit-reset-*` headers for requests and tokens; an
exhausted quota answers 429 `quota_exceeded` with `Retry-After`.
"""


def new_embedder(settings: Settings) -> HttpEmbedder | None:
    """The embeddings endpoint the semantic guardrail and cache use, if one is configured."""
    if settings.embeddings_url is None:
        return None
    key = settings.embeddings_api_key
    return HttpEmbedder(
        settings.embeddings_url,
        settings.embeddings_model,
        key.get_secret_value() if key is not None else None,
        settings.embeddings_timeout,
    )


def new_upstream_pool(settings: Settings) -> Pool:
    """The provider connections; outside dev mode they go only to public addresses and the
    allow-listed networks."""
    ca_file = settings.upstream_ca_file
    return Pool(
        limit=settings.upstream_pool_size,
        keepalive=settings.upstream_keepalive,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_timeout,
        ssl_context=ssl.create_default_context(cafile=str(ca_file)) if ca_file else None,
        addresses=address_policy(settings),
    )


def address_policy(settings: Settings) -> AddressPolicy:
    return AddressPolicy(anywhere=settings.dev_mode, allowed=settings.upstream_allowed_network_list)


class Gateway:
    """The ASGI callable `create_app` returns; `state` and `follower` are there for tests."""

    def __init__(
        self,
        management: FastAPI,
        invoker: Invoker,
        state: GatewayState,
        follower: EventFollower,
        cache: SharedCache,
        embedder: HttpEmbedder | None = None,
        board: WorkerBoard | None = None,
    ) -> None:
        self.management = management
        self.invoker = invoker
        self.state = state
        self.follower = follower
        self.cache = cache
        self.embedder = embedder
        self.quota = invoker.quota
        self.recorder = invoker.settlement.recorder
        self.board = board or WorkerBoard.local()
        self.draining = False  # set on SIGTERM (aigw.gateway.server): readiness goes first

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.draining:
                send = _closing(send)
            path: str = scope["path"]
            if path not in MANAGEMENT_PATHS and not path.startswith(("/health/", "/docs/")):
                await self.invoker(scope, receive, send)
                return
        await self.management(scope, receive, send)

    def replayed(self) -> bool:
        """This process can route every call it can know of: the table has replayed the
        stream, or holds its snapshot while NATS is away; the pool is open."""
        return self.state.upstream is not None and _routable(self.follower)

    def ready(self) -> bool | str:
        """Ready for the whole process (every worker replayed) unless draining; degraded (a
        text saying so) while NATS is away and the table is the snapshot's."""
        if not self.replayed() or self.draining or not self.board.all_ready():
            return False
        return self.follower.degraded or True

    async def wait_replayed(self) -> None:
        while not self.replayed():
            await asyncio.sleep(0.05)  # start-up only: the follower's state, polled


def _routable(follower: EventFollower) -> bool:
    return follower.caught_up or follower.degraded is not None


def table_snapshots(settings: Settings, verifier: EventVerifier) -> SnapshotFile | None:
    """The routing table's snapshot file, in GATEWAY_STATE_DIR (none without one)."""
    if settings.state_dir is None:
        return None
    key = derived_key(settings.secret_key.get_secret_value(), "gateway routing snapshot")
    return SnapshotFile(settings.state_dir, key, verifier.fingerprint())


def _closing(send: Send) -> Send:
    """`send` with `Connection: close` on the answer: the connection ends after it (uvicorn
    closes a connection whose answer says so)."""

    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [*message.get("headers", ()), (b"connection", b"close")]
            message = {**message, "headers": headers}
        await send(message)

    return closing


def create_app(settings: Settings, board: WorkerBoard | None = None) -> Gateway:
    """The gateway's app; `board`: the worker slots it shares with its sibling workers (one
    slot of its own when there are none)."""
    state = GatewayState()
    box = settings.secret_box()
    signer, verifier = settings.event_signer(), settings.event_verifier()
    follower = EventFollower(
        settings.nats_url,
        settings.nats_options(),
        verifier,
        state.table,
        box,
        table_snapshots(settings, verifier),
        settings.snapshot_interval,
        SharedSnapshots(verifier) if settings.shared_snapshot else None,
    )
    sync = QuotaSync(
        QuotaBook(), follower.connection, settings.quota_sync_interval, signer, verifier
    )
    recorder = UsageRecorder(
        follower.connection,
        signer,
        settings.gateway_name,
        settings.usage_batch_interval,
        settings.usage_batch_size,
        max_records=settings.usage_spool_max_records,
        spool=UsageSpool(settings.state_dir) if settings.state_dir is not None else None,
    )

    # the response cache: entries signed and verified as usage messages are, with a verifier
    # of its own so that its rejections are counted apart from the events'
    cache = SharedCache(
        follower.connection,
        signer,
        settings.event_verifier(),
        CacheIndex(time.time),
        reconnects=follower.reconnects,
    )
    embedder = new_embedder(settings)
    outcomes = CacheOutcomes()
    compilers = _api_policies(settings, cache, embedder, outcomes)
    access_log = AccessLog.open(settings.access_log)  # a path it cannot open stops the start
    tracer = settings.tracer()
    tracing = CallTracing(tracer) if tracer is not None else None
    lifespan = _lifespan(
        settings, state, follower, sync, recorder, cache, embedder, access_log, tracing
    )

    async def ready(app: FastAPI) -> bool | str:
        return gateway.ready()

    management = create_service_app(
        title="aigw gateway",
        description=DESCRIPTION,
        lifespan=lifespan,
        routers=[],
        ready=ready,
        max_body_bytes=settings.max_body_bytes,
        web_dir=settings.web_dir,
    )
    registry = management.state.metrics_registry
    registry.register(verifier.collector())
    registry.register(recorder.collector())
    registry.register(CacheCollector(outcomes, cache))
    if access_log is not None:
        registry.register(access_log.collector())
    settlement = partial(Settlement, recorder=recorder, access_log=access_log)
    invoker = _invoker(settings, state, registry, sync, settlement, compilers, tracing)
    invoker.metrics.watch_replay(lambda: follower.last_sequence, lambda: follower.target_sequence)
    state.replayed = lambda: _routable(follower)
    gateway = Gateway(management, invoker, state, follower, cache, embedder, board)
    registry.register(gateway.board.collector())
    return gateway


def _api_policies(
    settings: Settings, cache: SharedCache, embedder: HttpEmbedder | None, outcomes: CacheOutcomes
) -> list[PolicyCompiler]:
    """The compilers of an API's own policies, in their order: guardrails before the cache,
    so that a cached answer passes back through them."""
    semantic = semantic_guard_factory(embedder)
    guardrails = GuardrailCompiler(
        settings.guardrail_regex_timeout_ms,
        settings.guardrail_stream_holdback,
        factories={"SEMANTIC_PROMPT_GUARD": lambda guardrail, route: semantic(guardrail)},
        addresses=address_policy(settings),
    )
    return [guardrails, cache_compiler(cache, embedder, settings.embeddings_model, outcomes)]


def _lifespan(
    settings: Settings,
    state: GatewayState,
    follower: EventFollower,
    sync: QuotaSync,
    recorder: UsageRecorder,
    cache: SharedCache,
    embedder: HttpEmbedder | None,
    access_log: AccessLog | None,
    tracing: CallTracing | None,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.upstream = new_upstream_pool(settings)
        follower.start()
        sync.start()
        recorder.start()
        cache.start()
        if access_log is not None:
            access_log.start()
        try:
            yield
        finally:
            await sync.stop()
            await recorder.stop()  # flushes what is queued while NATS is still connected
            if access_log is not None:
                await access_log.stop()  # writes what is queued
            await cache.stop()  # waits briefly for the writes in flight
            if embedder is not None:
                await embedder.close()
            await follower.stop()
            pool, state.upstream = state.upstream, None
            await pool.close()
            if tracing is not None:
                tracing.shutdown()  # posts the spans still queued

    return lifespan


def _invoker(
    settings: Settings,
    state: GatewayState,
    registry: CollectorRegistry,
    sync: QuotaSync,
    settlement: Callable[..., Settlement],
    compilers: Sequence[PolicyCompiler],
    tracing: CallTracing | None,
) -> Invoker:
    metrics = GatewayMetrics(registry)
    metrics.watch_peers(lambda: sync.book.peers)
    quota = QuotaEnforcer(state.table, sync.book, sync, settings.test_key_plan)
    return Invoker(
        state,
        metrics,
        settings.max_body_bytes,
        CorsPolicy(settings.cors_origin_list),
        quota,
        settlement(state.table, metrics, quota),
        settings.forward_header_names,
        compilers=compilers,
        tracing=tracing,
    )


__all__ = ["Gateway", "Message", "create_app", "new_upstream_pool"]
