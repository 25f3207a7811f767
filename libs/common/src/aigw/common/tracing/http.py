"""Tracing the management services' HTTP: a server span per request (`ServerSpans`, the
outermost ASGI middleware of `aigw.common.service_app`), and the trace context carried on the
calls they make to each other (`aigw.common.tracing.client.TracedTransport`, e.g. devportal's
client of keymanager: apart, so the gateway, which serves these spans too, never imports httpx).

The request's span is the current span (`CURRENT`) while the app handles it, so a call made
on its behalf becomes its child and carries `traceparent`: keymanager's span of an API-key
issue is then a child of devportal's client span, under devportal's server span.
"""

from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aigw.common.tracing.context import HEADER_RAW, parse_traceparent
from aigw.common.tracing.spans import SERVER, Attributes, Span
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
