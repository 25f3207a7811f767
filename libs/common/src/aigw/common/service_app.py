"""The parts every service's FastAPI app shares: health, metrics, errors, body-size limit, the
API docs (`/docs`, `/redoc`), when origins are configured (`AIGW_CORS_ORIGINS`) CORS for
browser clients and, when a tracer is given (`OTEL_EXPORTER_OTLP_ENDPOINT`), a server span per
API request."""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aigw.common.errors import ERROR_RESPONSES, add_exception_handlers, error_response
from aigw.common.tracing.http import ServerSpans
from aigw.common.tracing.tracer import Tracer
from aigw.common.web import DEFAULT_WEB_DIR, mount_docs

# True: ready; False: not (503); a text: ready but degraded, saying how (200, status DEGRADED)
ReadyCheck = Callable[[FastAPI], Awaitable[bool | str]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class BodySizeLimit:
    """Answers 413 before reading more than `max_bytes` of a request body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        seen = 0
        rejected = False

        # Past the limit the 413 is sent here and the app is told the client went away; its
        # own reaction (e.g. FastAPI's 400 "error parsing the body") is dropped. Raising from
        # receive instead would reach FastAPI wrapped in an ExceptionGroup and become a 400.
        async def limited_receive() -> Message:
            nonlocal seen, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                rejected = True
                await self._reject(scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "Payload too large", f"Request bodies are limited to {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


def health_router(ready: ReadyCheck, registry: CollectorRegistry) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "UP"}

    @router.get("/health/ready", responses={503: {"description": "Not ready"}})
    async def is_ready(request: Request) -> JSONResponse:
        ok = await ready(request.app)
        if isinstance(ok, str):
            return JSONResponse({"status": "DEGRADED", "detail": ok})
        return JSONResponse({"status": "UP" if ok else "DOWN"}, status_code=200 if ok else 503)

    @router.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def create_service_app(
    *,
    title: str,
    description: str,
    lifespan: Lifespan,
    routers: Sequence[APIRouter],
    ready: ReadyCheck,
    max_body_bytes: int,
    cors_origins: Sequence[str] = (),
    web_dir: Path | None = None,
    tracer: Tracer | None = None,
) -> FastAPI:
    registry = CollectorRegistry()
    if tracer is not None:
        lifespan = _flushing(lifespan, tracer)
    requests = Counter(
        "aigw_http_requests", "Management API requests", ["method", "status"], registry=registry
    )
    # /docs and /redoc come from aigw.common.web: served from this machine, not a CDN
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.metrics_registry = registry
    app.state.tracer = tracer  # None: tracing is off

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Callable[[Request], Any]) -> Any:
        response = await call_next(request)
        requests.labels(request.method, str(response.status_code)).inc()
        return response

    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    if cors_origins:
        # added last, so it runs first: a preflight is answered before any other check
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            # a portal on another origin reads when to retry a throttled call (login: 429)
            expose_headers=["Retry-After"],
            max_age=600,
        )
    if tracer is not None:  # outermost: the span covers every other middleware
        app.add_middleware(ServerSpans, tracer=tracer)
    add_exception_handlers(app)
    app.include_router(health_router(ready, registry))
    mount_docs(app, web_dir or DEFAULT_WEB_DIR, title)
    for router in routers:
        app.include_router(router, responses=ERROR_RESPONSES)
    return app


def _flushing(lifespan: Lifespan, tracer: Tracer) -> Lifespan:
    """`lifespan`, then the spans still queued posted as the app stops."""

    @asynccontextmanager
    async def flushing(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with lifespan(app):
                yield
        finally:
            tracer.shutdown()

    return flushing
