"""The parts every service's FastAPI app shares: health, metrics, errors, body-size limit."""

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aigw.common.errors import add_exception_handlers, error_response

ReadyCheck = Callable[[FastAPI], Awaitable[bool]]
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

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "Payload too large", f"Request bodies are limited to {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def health_router(ready: ReadyCheck, registry: CollectorRegistry) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "UP"}

    @router.get("/health/ready", responses={503: {"description": "Not ready"}})
    async def is_ready(request: Request) -> JSONResponse:
        ok = await ready(request.app)
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
) -> FastAPI:
    registry = CollectorRegistry()
    requests = Counter(
        "aigw_http_requests", "Management API requests", ["method", "status"], registry=registry
    )
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.metrics_registry = registry

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Callable[[Request], Any]) -> Any:
        response = await call_next(request)
        requests.labels(request.method, str(response.status_code)).inc()
        return response

    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    add_exception_handlers(app)
    app.include_router(health_router(ready, registry))
    for router in routers:
        app.include_router(router)
    return app
