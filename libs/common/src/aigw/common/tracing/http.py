"""Tracing the management services' HTTP: a server span per request (`ServerSpans`, the
outermost ASGI middleware of `aigw.common.service_app`), and the trace context carried on the
calls they make to each other (`TracedTransport`, e.g. devportal's client of keymanager).

The request's span is the current span (`CURRENT`) while the app handles it, so a call made
on its behalf becomes its child and carries `traceparent`: keymanager's span of an API-key
issue is then a child of devportal's client span, under devportal's server span.
"""

from contextvars import ContextVar

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aigw.common.tracing.context import HEADER, HEADER_RAW, parse_traceparent
from aigw.common.tracing.spans import CLIENT, SERVER, Attributes, Span
from aigw.common.tracing.tracer import Tracer

CURRENT: ContextVar[Span | None] = ContextVar("aigw_current_span", default=None)
UNTRACED_PREFIXES = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json", "/assets/")


class ServerSpans:
    """One SERVER span per API request (health, metrics and static assets untraced), named
    `{method} {route template}`, with an incoming `traceparent` as its parent."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app, self.tracer = app, tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(UNTRACED_PREFIXES):
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == HEADER_RAW), None)
        method: str = scope["method"]
        attributes: Attributes = {"http.request.method": method, "url.path": path}
        span = self.tracer.start(method, SERVER, parse_traceparent(incoming), attributes)
        if span is None:
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = CURRENT.set(span)
        try:
            await self.app(scope, receive, noting_status)
        except BaseException as exc:
            span.fail(type(exc).__qualname__)
            raise
        finally:
            CURRENT.reset(token)
            self._finish(span, scope, status)

    def _finish(self, span: Span, scope: Scope, status: int) -> None:
        route = route_template(scope)
        if route is not None:
            span.name = f"{span.name} {route}"
            span.attributes["http.route"] = route
        span.attributes["http.response.status_code"] = status
        if status >= 500 and not span.status:
            span.fail(str(status))
        self.tracer.end(span)


def route_template(scope: Scope) -> str | None:
    """The matched route's full template (`/api/devportal/v1/applications/{app_id}`): FastAPI
    keeps it on its effective route context; the route's own path (without the prefixes of
    the routers it is included in) otherwise."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else None


class TracedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that wraps each request made within a traced request in a CLIENT
    span and sends that span's `traceparent`; outside one it only forwards."""

    def __init__(self, tracer: Tracer, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.tracer = tracer
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        parent = CURRENT.get()
        if parent is None:
            return await self.inner.handle_async_request(request)
        span = self.tracer.child(parent, request.method, CLIENT)
        url = request.url
        span.attributes.update(
            {
                "http.request.method": request.method,
                "server.address": url.host,
                "server.port": url.port or (443 if url.scheme == "https" else 80),
                "url.full": str(url.copy_with(query=None)),
            }
        )
        request.headers[HEADER] = span.traceparent()
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as exc:
            span.fail(type(exc).__qualname__)
            self.tracer.end(span)
            raise
        span.attributes["http.response.status_code"] = response.status_code
        if response.status_code >= 400:
            span.fail(str(response.status_code))
        self.tracer.end(span)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
