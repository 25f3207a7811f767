"""The trace context carried on the management services' calls to each other: an httpx
transport that makes each call within a traced request a CLIENT span (aigw.common.tracing.http
has the server side)."""

import httpx

from aigw.common.tracing.context import HEADER
from aigw.common.tracing.http import CURRENT
from aigw.common.tracing.spans import CLIENT
from aigw.common.tracing.tracer import Tracer


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
