"""The invocation hot path: match, authorise, rewrite headers, forward, relay.

Per request this does no I/O other than the provider call, logs nothing at info level and never
re-serialises the body: the caller's bytes go to the provider untouched (parsed once, only to
refuse invalid JSON), and the provider's status, headers and body come back unchanged. Responses
without a Content-Length, and every `text/event-stream`, are relayed chunk by chunk as they
arrive. A client that disconnects mid-stream closes the upstream response.
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Histogram
from yarl import URL

from aigw.gateway.proxy.auth import AccessDenied, authorise, extract_key
from aigw.gateway.proxy.errors import send_error
from aigw.gateway.proxy.paths import match_route, path_problem, rest_after
from aigw.gateway.routing.table import RoutingTable

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Never forwarded to the provider: the caller's credentials, Host, hop-by-hop headers and the
# length (aiohttp sets it from the body it sends).
_REQUEST_DROP = frozenset(
    {
        b"authorization",
        b"apikey",
        b"host",
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
        b"content-length",
    }
)
# Never relayed back: hop-by-hop headers (the server frames the response itself).
_RESPONSE_DROP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass
class GatewayState:
    """What the hot path reads; filled by the app's lifespan."""

    table: RoutingTable = field(default_factory=RoutingTable)
    session: aiohttp.ClientSession | None = None


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "aigw_gateway_requests",
            "Invocations by API and response status",
            ["api", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "aigw_gateway_request_duration_seconds",
            "Time from request to the end of the response, by API",
            ["api"],
            registry=registry,
            buckets=(
                0.001,
                0.0025,
                0.005,
                0.01,
                0.025,
                0.05,
                0.1,
                0.25,
                0.5,
                1,
                2.5,
                5,
                10,
                30,
                60,
            ),
        )
        self._counters: dict[tuple[str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    def observe(self, api: str, status: int, seconds: float) -> None:
        counter = self._counters.get((api, status))
        if counter is None:
            counter = self._counters[(api, status)] = self.requests.labels(api, str(status))
        counter.inc()
        histogram = self._histograms.get(api)
        if histogram is None:
            histogram = self._histograms[api] = self.latency.labels(api)
        histogram.observe(seconds)


class _ClientGone(Exception):
    pass


class Invoker:
    """The raw-ASGI invocation handler."""

    def __init__(self, state: GatewayState, metrics: GatewayMetrics, max_body_bytes: int) -> None:
        self.state = state
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        api = "-"
        status = 500
        try:
            api, status = await self._handle(scope, receive, send)
        finally:
            self.metrics.observe(api, status, time.perf_counter() - started)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> tuple[str, int]:
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or path.encode()
        problem = path_problem(path, raw_path)
        if problem is not None:
            await send_error(send, 400, problem, "invalid_path")
            return "-", 400
        table = self.state.table
        route, segments = match_route(table.routes, table.max_prefix_segments, path)
        if route is None:
            await send_error(send, 404, f"No API is deployed at {path}.", "not_found")
            return "-", 404
        api = route.api_id

        authorization: bytes | None = None
        api_key_header: bytes | None = None
        vendor_header = route.auth_header.encode()
        headers: list[tuple[str, str]] = []
        for name, value in scope["headers"]:
            if name in _REQUEST_DROP:
                if name == b"authorization":
                    authorization = value
                elif name == b"apikey":
                    api_key_header = value
                continue
            if name == vendor_header:
                continue
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        try:
            entry = authorise(table, extract_key(authorization, api_key_header), route)
        except AccessDenied as denied:
            await send_error(send, denied.status, denied.message, denied.code)
            return api, denied.status

        upstream = route.upstream_for(entry.key_type)
        if upstream is None:
            kind = entry.key_type.lower()
            await send_error(
                send,
                404,
                f"This API has no {kind} endpoint; a {entry.key_type} key cannot call it.",
                "endpoint_not_configured",
            )
            return api, 404
        if upstream.key_error is not None:
            await send_error(send, 503, upstream.key_error, "provider_key_unavailable")
            return api, 503

        method: str = scope["method"]
        body = await self._read_body(receive)
        if body is None:
            await send_error(
                send,
                413,
                f"Request bodies are limited to {self.max_body_bytes} bytes.",
                "too_large",
            )
            return api, 413
        if method in _BODY_METHODS or body:
            try:
                json.loads(body)
            except ValueError:
                await send_error(send, 400, "The request body is not valid JSON.", "invalid_json")
                return api, 400

        if upstream.api_key is not None:
            headers.append((route.auth_header, route.auth_prefix + upstream.api_key))
        rest = (
            rest_after(raw_path.decode("latin-1"), segments)
            if b"%" in raw_path
            else (path[len(route.route_prefix) + 1 :])
        )
        query: bytes = scope.get("query_string", b"")
        target = upstream.url + rest
        if query:
            target += "?" + query.decode("latin-1")
        session = self.state.session
        if session is None:
            await send_error(send, 503, "The gateway is starting.", "not_ready")
            return api, 503
        return api, await self._forward(session, method, target, headers, body, receive, send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            return body if len(body) <= self.max_body_bytes else None
        chunks = [body]
        size = len(body)
        while message.get("more_body", False):
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _forward(
        self,
        session: aiohttp.ClientSession,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        receive: Receive,
        send: Send,
    ) -> int:
        try:
            resp = await session.request(
                method,
                URL(target, encoded=True),
                data=body or None,
                headers=headers,
                allow_redirects=False,
            )
        except TimeoutError:
            await send_error(
                send, 504, "The AI provider did not answer in time.", "upstream_timeout"
            )
            return 504
        except aiohttp.ClientError as exc:
            log.debug("provider unreachable at %s: %s", target, exc)
            await send_error(send, 502, "The AI provider could not be reached.", "upstream_error")
            return 502
        try:
            status = resp.status
            out = [(k.lower(), v) for k, v in resp.raw_headers if k.lower() not in _RESPONSE_DROP]
            streamed = resp.content_length is None or resp.content_type == "text/event-stream"
            if not streamed:
                try:
                    data = await resp.read()
                except TimeoutError:
                    await send_error(
                        send, 504, "The AI provider did not answer in time.", "upstream_timeout"
                    )
                    return 504
                except aiohttp.ClientError:
                    await send_error(
                        send, 502, "The AI provider's answer was cut off.", "upstream_error"
                    )
                    return 502
                await send({"type": "http.response.start", "status": status, "headers": out})
                await send({"type": "http.response.body", "body": data})
                return status
            await send({"type": "http.response.start", "status": status, "headers": out})
            await self._relay(resp, receive, send)
            return status
        finally:
            resp.release()

    @staticmethod
    async def _relay(resp: aiohttp.ClientResponse, receive: Receive, send: Send) -> None:
        """Send chunks as they arrive; stop (and close the upstream) when the client leaves."""
        gone = False

        def client_left(task: asyncio.Future[Message]) -> None:
            nonlocal gone
            if (
                not task.cancelled()
                and task.exception() is None
                and task.result().get("type") == "http.disconnect"
            ):
                gone = True
                resp.close()

        watcher = asyncio.ensure_future(receive())
        watcher.add_done_callback(client_left)
        try:
            async for chunk in resp.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            watcher.remove_done_callback(client_left)
            await send({"type": "http.response.body", "body": b""})
        except (aiohttp.ClientError, TimeoutError) as exc:
            if not gone:
                # The provider failed mid-stream: leave the response unfinished, so the
                # server drops the connection and the client sees a truncated stream.
                log.debug("provider stream broke: %r", exc)
        finally:
            watcher.remove_done_callback(client_left)
            watcher.cancel()
