"""The invocation hot path: match, authorise, admit (quotas), rewrite headers, forward, relay,
meter.

Per request this does no I/O other than the provider call and logs nothing at info level. Only
the operations of the API's vendor definition are forwarded (anything else is the gateway's 404
or 405), with only the headers a caller may set (see FORWARDED_HEADERS) and `Accept-Encoding:
identity`. The caller's body goes to the provider untouched (a body sent as `application/json`
or `+json` is parsed once, to refuse invalid JSON and to read what metering needs: the requested
model where the API's vendor says it is, `stream` and `max_tokens`; multipart, binary and empty
bodies are not looked at), with two exceptions: a streaming call to an OpenAI-style vendor that did not ask
for usage gets `stream_options.include_usage` added (metering), and the extra usage chunk is
kept from the caller; a routed call gets its target's model. The provider key goes where the
vendor wants it (a header or a query parameter), with the vendor's default headers. The
provider's status, headers and body come back unchanged (except a 401/403 to a call that
carried the provider key: the caller gets 502 `provider_rejected_credentials`), plus the
`x-ratelimit-*` headers when the subscription's plan (or, for a test key, the test-key plan) has limits, and `x-aigw-target` / `x-aigw-model` on routed calls.
Responses without a Content-Length, and every `text/event-stream`, are relayed chunk by chunk as
they arrive (a routed call reads a stream's first chunk, or an answer of known length, before it
commits to a target). A client that disconnects at any point of the provider call (waiting for
the answer, reading it or streaming it) makes the gateway abandon the call and close the
upstream connection; such a call is counted with status 499 (in metrics only if the answer had
not started).
"""

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aigw.common.events import KeyType
from aigw.gateway.metering.recorder import UsageRecorder
from aigw.gateway.metering.request import (
    can_set_model,
    facts,
    serialise,
    with_include_usage,
    with_model,
)
from aigw.gateway.metering.sse import StreamTap
from aigw.gateway.proxy.auth import CallerCredentials, authorise
from aigw.gateway.proxy.call import Call, finish_call, usage_from_body
from aigw.gateway.proxy.cors import CorsPolicy, Headers, request_origin
from aigw.gateway.proxy.errors import Refused, send_error
from aigw.gateway.proxy.metrics import GatewayMetrics
from aigw.gateway.proxy.paths import match_route, path_problem, rest_after
from aigw.gateway.proxy.upstream_http import (
    AddressRefused,
    ConnectTimeout,
    Pool,
    Response,
    UpstreamError,
)
from aigw.gateway.quota.enforcer import QuotaEnforcer, QuotaRefused
from aigw.gateway.routing.table import Route, RoutingTable
from aigw.gateway.routing.targets import Target, TargetRouter
from aigw.gateway.routing.upstream import Upstream
from aigw.gateway.routing.vendor import VendorProfile, replace_param

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The request headers a caller may send to the provider, besides the vendor's `callerHeaders`
# (e.g. `anthropic-beta`) and the operator's GATEWAY_FORWARD_HEADERS. An allow-list, not a
# deny-list: providers keep adding headers that pick the organisation's account, project,
# region or billing (`OpenAI-Organization`, `OpenAI-Project`...) and client-identity headers
# are open-ended (`Cookie`, `Forwarded`, `X-Forwarded-*`, `X-Real-IP`, CDN variants), so a
# header nobody vetted must not reach the provider with the organisation's key. What passes is
# what SDKs need: the body's type and encoding, what the caller accepts, who the client is,
# its request id and idempotency key, and the OpenAI/Anthropic SDKs' `x-stainless-*`. Never
# passed: the caller's credentials, hop-by-hop headers (and those the caller's `Connection`
# names), Host and the length (the upstream client sets them), and `Accept-Encoding` (the
# gateway asks for `identity`: it meters what it reads, and a compressed stream is unreadable).
FORWARDED_HEADERS = frozenset(
    {
        b"content-type",
        b"content-encoding",
        b"accept",
        b"user-agent",
        b"idempotency-key",
        b"x-request-id",
    }
)
_SDK_PREFIX = b"x-stainless-"
_PERSISTENT = frozenset({b"keep-alive", b"close"})  # `Connection` options, not header names
_IDENTITY = ("accept-encoding", "identity")
# Never relayed back: hop-by-hop headers (the server frames the response itself) and the
# provider's own CORS headers (the gateway's CORS policy decides what browsers may read).
_RESPONSE_DROP = frozenset(
    {
        b"access-control-allow-origin",
        b"access-control-allow-credentials",
        b"access-control-allow-methods",
        b"access-control-allow-headers",
        b"access-control-expose-headers",
        b"access-control-max-age",
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


@dataclass
class GatewayState:
    """What the hot path reads; filled by the app's lifespan."""

    table: RoutingTable = field(default_factory=RoutingTable)
    upstream: Pool | None = None  # the provider connections


CLIENT_CLOSED = 499  # recorded, never sent: the caller left before the answer (nginx's code)


class _ClientGone(Exception):
    pass


class _DisconnectWatch:
    """While `active`, cancels the request's task as soon as the client disconnects.

    It waits on `receive()` (the request body has been read, so the next message is
    `http.disconnect`) for the whole provider call: sending the request, waiting for the
    answer, reading or relaying it. Cancelling the task aborts the upstream request or read, which
    closes the upstream connection. The cancellation surfaces at the await the task is
    suspended at, always inside the watched code (the callback checks `active`, and that is
    cleared synchronously before the watched code ends).
    """

    __slots__ = ("_absorbed", "_task", "_watcher", "active", "gone")

    def __init__(self, receive: Receive) -> None:
        self.active = True
        self.gone = False
        self._absorbed = False
        self._task = asyncio.current_task()
        self._watcher = asyncio.ensure_future(receive())
        self._watcher.add_done_callback(self._done)

    def _done(self, watcher: asyncio.Future[Message]) -> None:
        if (
            self.active
            and not watcher.cancelled()
            and watcher.exception() is None
            and watcher.result().get("type") == "http.disconnect"
        ):
            self.gone = True
            if self._task is not None:
                self._task.cancel()

    def stop(self) -> None:
        self.active = False
        self._watcher.cancel()

    def absorb(self) -> bool:
        """True if the client left and no one else cancelled the task; this watch's own
        cancellation is then withdrawn (once), so the handler may finish normally."""
        if not self.gone or self._task is None:
            return False
        if not self._absorbed:
            self._absorbed = True
            return self._task.uncancel() == 0
        return self._task.cancelling() == 0


def _filter_headers(
    raw: list[tuple[bytes, bytes]],
    vendor: VendorProfile,
    forwarded: frozenset[bytes] = FORWARDED_HEADERS,
) -> tuple[list[tuple[str, str]], CallerCredentials, bytes | None]:
    """The headers to forward (see FORWARDED_HEADERS), the caller's credentials and its
    Content-Type. The caller's copy of the vendor's key header (e.g. `x-api-key` from the
    Anthropic SDK) is a credential too, and never forwarded: the provider key takes its place."""
    credentials = CallerCredentials()
    content_type: bytes | None = None
    connection: bytes | None = None
    headers: list[tuple[str, str]] = []
    vendor_header, allowed = vendor.auth_header_raw, vendor.caller_headers
    for name, value in raw:
        if name == b"authorization":
            credentials.authorization = value
        elif name == b"apikey":
            credentials.api_key = value
        elif name == vendor_header:
            credentials.vendor_header = value
        elif name in forwarded or name in allowed or name.startswith(_SDK_PREFIX):
            if name == b"content-type":
                content_type = value
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        elif name == b"connection":
            connection = value if connection is None else connection + b"," + value
    if connection is not None and connection.lower() not in _PERSISTENT:
        headers = _without_hop_by_hop(headers, connection)
    headers.append(_IDENTITY)
    return headers, credentials, content_type


def _without_hop_by_hop(headers: list[tuple[str, str]], connection: bytes) -> list[tuple[str, str]]:
    """`headers` without those the caller's `Connection` names (hop-by-hop for the caller's
    connection only, RFC 9110 7.6.1)."""
    named = {token.strip().lower() for token in connection.split(b",")} - _PERSISTENT
    if not named:
        return headers
    drop = {token.decode("latin-1") for token in named}
    return [(name, value) for name, value in headers if name not in drop]


def _check_operation(route: Route, vendor: VendorProfile, scope: Scope) -> None:
    """Refuse a call the API's definition does not list: 404 for an unknown path, 405 (with
    `Allow`) for a method the path does not take. Nothing else reaches the provider."""
    path: str = scope["path"][len(route.route_prefix) + 1 :]
    methods = vendor.operations.methods(path)
    method: str = scope["method"]
    if methods is not None and method in methods:
        return
    shown = path if len(path) <= 200 else path[:200] + "..."
    if methods is None:
        raise Refused(
            404,
            f"This API has no operation at '{shown}': the gateway forwards only the operations "
            "of the API's definition.",
            "unknown_operation",
        )
    allow = ", ".join(sorted(methods))
    raise Refused(
        405,
        f"'{shown}' does not take {method}; it takes {allow}.",
        "method_not_allowed",
        [(b"allow", allow.encode())],
    )


def _is_json(content_type: bytes | None) -> bool:
    """`application/json` or a `+json` media type, parameters and case aside."""
    if content_type is None:
        return False
    media = content_type.partition(b";")[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def _check_body(body: bytes, content_type: bytes | None) -> Any:
    """The parsed body; refuse a non-empty body that says it is JSON and is not. Anything else
    (multipart audio uploads, empty POSTs like `/v1/batches/{id}/cancel`, binary files) is
    forwarded as is (None)."""
    if body and _is_json(content_type):
        try:
            return json.loads(body)
        except ValueError:
            raise Refused(400, "The request body is not valid JSON.", "invalid_json") from None
        except RecursionError:
            raise Refused(400, "The request body is nested too deeply.", "invalid_json") from None
    return None


_KEEP_JSON_BYTES = 4 * 1_048_576  # a chunked JSON answer larger than this is not metered
# The answers after which a routed call tries its next target (besides errors and timeouts).
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504, 529})
# A provider's 401/403 to a call carrying the API's provider key is about that key (the
# caller's own credentials never reach the provider): relayed, it would read as the caller's
# key being wrong, and its body may describe the organisation's key. The caller gets a 502
# instead (a routed call does not fail over, as for any other client error of a target).
_CREDENTIALS_REJECTED = frozenset({401, 403})
_REJECTED_MESSAGE = (
    "The AI provider rejected this API's provider credentials (the key the gateway sends "
    "for the API), not your API key. The API's publisher must set a valid provider key."
)


def _upstream(route: Route, key_type: KeyType) -> Upstream:
    """The endpoint a key of `key_type` calls, if it has one and its provider key is usable."""
    upstream = route.upstream_for(key_type)
    if upstream is None:
        raise Refused(
            404,
            f"This API has no {key_type.lower()} endpoint; a {key_type} key cannot call it.",
            "endpoint_not_configured",
        )
    if upstream.key_error is not None:
        raise Refused(503, upstream.key_error, "provider_key_unavailable")
    return upstream


def _rest(route: Route, scope: Scope, raw_path: bytes, segments: int) -> str:
    """The path after the route prefix (still percent-encoded when the caller encoded it)."""
    if b"%" in raw_path:
        return rest_after(raw_path.decode("latin-1"), segments)
    path: str = scope["path"]
    return path[len(route.route_prefix) + 1 :]


def _url(base: str, rest: str, query: str) -> str:
    return f"{base}{rest}?{query}" if query else base + rest


@dataclass(slots=True)
class Attempt:
    """One request to one provider endpoint (a routed call may make several)."""

    url: str
    headers: list[tuple[str, str]]
    body: bytes
    target: Target | None = None
    query_secret: str | None = None  # the provider key, when it travels in the query
    sends_key: bool = False  # the request carries the API's provider key


class _TargetFailed(Exception):
    """A routed target answered with a status that sends the call to the next target."""


class Invoker:
    """The raw-ASGI invocation handler."""

    def __init__(
        self,
        state: GatewayState,
        metrics: GatewayMetrics,
        max_body_bytes: int,
        cors: CorsPolicy | None = None,
        quota: QuotaEnforcer | None = None,
        recorder: UsageRecorder | None = None,
        forward_headers: frozenset[bytes] = frozenset(),
    ) -> None:
        self.state = state
        self.forwarded = FORWARDED_HEADERS | forward_headers
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.cors = cors or CorsPolicy(())
        self.quota = quota
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call = Call(time.perf_counter())
        try:
            call.status = await self._handle(call, scope, receive, send)
        finally:
            finish_call(call, self.state.table, self.metrics, self.quota, self.recorder)

    async def _handle(self, call: Call, scope: Scope, receive: Receive, send: Send) -> int:
        """Match, authorise, read and check the body, admit, then forward. Each step either
        returns what the next one needs or raises Refused (answered here) or _ClientGone."""
        cors: Headers = []
        if self.cors.enabled:
            origin, asks_method = request_origin(scope["headers"])
            if asks_method and origin is not None and scope["method"] == "OPTIONS":
                return await self._preflight(origin, send)
            cors = self.cors.response_headers(origin)
        try:
            route, raw_path, segments = self._match(scope)
            call.api = route.api_id
            vendor = route.vendor
            headers, credentials, content_type = _filter_headers(
                scope["headers"], vendor, self.forwarded
            )
            call.entry = entry = authorise(self.state.table, credentials.key(), route)
            _check_operation(route, vendor, scope)
            router = route.router_for(entry.key_type)
            upstream = _upstream(route, entry.key_type) if router is None else None
            body = await self._read_body(receive)
            parsed = _check_body(body, content_type)
            query: str = scope.get("query_string", b"").decode("latin-1")
            body = self._meter_request(call, vendor, body, parsed, headers, query)
            pool = self.state.upstream
            if pool is None:
                raise Refused(503, "The gateway is starting.", "not_ready")
            await self._admit(call, route)
            rest = _rest(route, scope, raw_path, segments)
            if router is None:
                assert upstream is not None
                vendor.add_headers(headers, upstream.api_key)
                url = _url(upstream.url, rest, vendor.query(query, upstream.api_key))
                secret, sends_key = vendor.query_secret(upstream), vendor.sends_key(upstream)
                attempts: Iterable[Attempt] = [Attempt(url, headers, body, None, secret, sends_key)]
                count = 1
            else:
                attempts, count = _routed_attempts(
                    call, router, vendor, rest, query, headers, body, parsed
                )
        except Refused as refused:
            if isinstance(refused, QuotaRefused):
                self.metrics.rejected(call.api, refused.kind)
            extra = [*refused.headers, *cors]
            await send_error(send, refused.status, refused.message, refused.code, extra)
            return refused.status
        except _ClientGone:
            return CLIENT_CLOSED
        if call.admission is not None:
            cors = [*call.admission.headers, *cors]
        return await self._forward(
            call, pool, scope["method"], attempts, count, router, vendor, receive, send, cors
        )

    @staticmethod
    def _meter_request(
        call: Call,
        vendor: VendorProfile,
        body: bytes,
        parsed: Any,
        headers: list[tuple[str, str]],
        query: str,
    ) -> bytes:
        """Note what metering needs; make a stream report its usage (the one body rewrite)."""
        call.body_size = len(body)
        model = vendor.meter.requested_model(parsed, headers, query)
        call.facts = request = facts(parsed, model)
        if request.stream and not request.wants_usage and vendor.ask_stream_usage:
            call.strip_usage_chunk = True
            return with_include_usage(body, parsed)
        return body

    async def _admit(self, call: Call, route: Route) -> None:
        if self.quota is None or call.entry is None:
            return
        entry = call.entry
        self.quota.protect_backend(route, entry.key_type)
        if entry.api_id is None:
            call.plan = self.quota.plan_for(entry.application_id, route.api_id)
        else:  # a test key: no subscription, the test-key plan per user (its application id)
            call.plan = self.quota.test_key_plan
        if call.plan is not None:
            call.admission = await self.quota.admit(
                entry.application_id, route.api_id, call.plan, call.facts, call.body_size
            )

    async def _preflight(self, origin: bytes, send: Send) -> int:
        """Answer a CORS preflight without credentials: browsers send none with it."""
        if not self.cors.allows(origin):
            await send_error(send, 403, "This origin may not call the gateway.", "cors_denied")
            return 403
        headers = self.cors.preflight_headers(origin)
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return 204

    def _match(self, scope: Scope) -> tuple[Route, bytes, int]:
        """The route for the request path, the raw path and the number of prefix segments."""
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or path.encode()
        problem = path_problem(path, raw_path)
        if problem is not None:
            raise Refused(400, problem, "invalid_path")
        table = self.state.table
        route, segments = match_route(table.routes, table.max_prefix_segments, path)
        if route is None:
            raise Refused(404, f"No API is deployed at {path}.", "not_found")
        return route, raw_path, segments

    async def _read_body(self, receive: Receive) -> bytes:
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            if message["type"] == "http.disconnect":
                raise _ClientGone
            if len(body) > self.max_body_bytes:
                raise self._too_large()
            return body
        chunks = [body]
        size = len(body)
        while message.get("more_body", False):
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> Refused:
        return Refused(
            413, f"Request bodies are limited to {self.max_body_bytes} bytes.", "too_large"
        )

    async def _forward(
        self,
        call: Call,
        pool: Pool,
        method: str,
        attempts: Iterable[Attempt],
        count: int,
        router: TargetRouter | None,
        vendor: VendorProfile,
        receive: Receive,
        send: Send,
        extra: Headers,
    ) -> int:
        """Call the provider and send its answer back (with `extra` headers: rate limits and
        CORS), metering it on the way. If the client disconnects at any point, the provider
        call is abandoned and its connection closed.

        A routed call (`router`) tries its `count` attempts in order: a connection error, a timeout
        (`router.timeout`, until the status and headers, and a stream's first event) or a
        429/5xx moves it to the next target, except on the last one, whose answer (or error)
        is the caller's. Nothing is sent to the caller before a target is chosen: a stream's
        first chunk, or a whole answer of known length, is read first."""
        watch = _DisconnectWatch(receive)
        resp: Response | None = None
        started = False
        call.provider_started = time.perf_counter()
        timeout = router.timeout if router is not None else None
        data: bytes | None = None
        first = b""
        try:
            for number, attempt in enumerate(attempts, 1):
                last = number == count
                routed = call.target = attempt.target
                try:
                    async with asyncio.timeout(timeout):
                        resp = await pool.request(
                            method, attempt.url, attempt.headers, attempt.body
                        )
                        if not last and resp.status in _RETRY_STATUS:
                            raise _TargetFailed(str(resp.status))
                        if resp.content_type == "text/event-stream" and routed is not None:
                            first = await resp.readany()
                            if not first and not last:
                                raise _TargetFailed("empty stream")
                    if resp.content_type != "text/event-stream" and resp.content_length is not None:
                        data = await resp.read()
                    break
                except (_TargetFailed, TimeoutError, UpstreamError) as exc:
                    if watch.absorb():
                        return CLIENT_CLOSED
                    if (
                        isinstance(exc, TimeoutError)
                        and resp is None
                        and not isinstance(exc, ConnectTimeout)
                    ):
                        call.abandoned_attempts += 1  # the provider has the prompt
                    if resp is not None:
                        resp.close()
                        resp = None
                    if routed is not None and router is not None:
                        router.failed(routed, time.monotonic())
                        self.metrics.failed_target(call.api, routed.endpoint, _reason(exc))
                    if not last:
                        continue
                    watch.stop()
                    status, message, code = _provider_error(exc)
                    await send_error(send, status, message, code, extra)
                    return status
            assert resp is not None
            status = call.provider_status = resp.status
            if routed is not None and router is not None and status in _RETRY_STATUS:
                # the last target failed too: its answer is the caller's, and it rests as well
                router.failed(routed, time.monotonic())
                self.metrics.failed_target(call.api, routed.endpoint, "status")
            if status in _CREDENTIALS_REJECTED and attempt.sends_key:
                watch.stop()
                served = _served_by(routed, call) if routed is not None else []
                code = "provider_rejected_credentials"
                await send_error(send, 502, _REJECTED_MESSAGE, code, [*extra, *served])
                return 502
            out = _response_headers(resp, extra, attempt.query_secret)
            if routed is not None:
                out += _served_by(routed, call)
            if data is not None:
                call.provider_ended = time.perf_counter()
                watch.stop()
                call.usage = usage_from_body(data, resp, vendor.meter)
                await send({"type": "http.response.start", "status": status, "headers": out})
                await send({"type": "http.response.body", "body": data})
                return status
            await send({"type": "http.response.start", "status": status, "headers": out})
            started = True
            if resp.content_type == "text/event-stream":
                await self._relay_events(call, vendor, resp, watch, send, first)
            else:
                await self._relay(call, vendor, resp, watch, send)
            return status
        except asyncio.CancelledError:
            if not watch.absorb():
                raise
            return resp.status if started and resp is not None else CLIENT_CLOSED
        finally:
            if call.provider_ended == 0.0:
                call.provider_ended = time.perf_counter()
            call.client_gone = watch.gone
            watch.stop()
            watch.absorb()  # in case the cancellation surfaced as another error
            if resp is not None:
                if watch.gone:
                    resp.close()
                else:
                    resp.release()

    @staticmethod
    async def _relay(
        call: Call,
        vendor: VendorProfile,
        resp: Response,
        watch: _DisconnectWatch,
        send: Send,
    ) -> None:
        """Send chunks as they arrive (the watch stops it when the client leaves). A JSON answer
        is also kept (up to a bound) to read its usage at the end."""
        kept: list[bytes] | None = [] if resp.content_type.endswith("json") else None
        size = 0
        try:
            async for chunk in resp.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if kept is not None and (size := size + len(chunk)) <= _KEEP_JSON_BYTES:
                    kept.append(chunk)
        except (UpstreamError, TimeoutError) as exc:
            # The provider failed mid-stream: leave the response unfinished, so the server
            # drops the connection and the client sees a truncated stream.
            log.debug("provider stream broke: %r", exc)
            return
        call.provider_ended = time.perf_counter()
        watch.stop()  # completing the response makes receive() report a disconnect
        if kept and size <= _KEEP_JSON_BYTES:
            call.usage = usage_from_body(b"".join(kept), resp, vendor.meter)
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _relay_events(
        call: Call,
        vendor: VendorProfile,
        resp: Response,
        watch: _DisconnectWatch,
        send: Send,
        first: bytes,
    ) -> None:
        """Relay a server-sent-event stream (starting with `first`, already read) through the
        metering tap."""
        tap = call.tap = StreamTap(vendor.meter, call.strip_usage_chunk and resp.status < 300)
        tap.usage.remaining_tokens = vendor.meter.remaining(resp.headers)
        try:
            if first:
                out = tap.feed(first)
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            async for chunk in resp.iter_any():
                out = tap.feed(chunk)
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
        except (UpstreamError, TimeoutError) as exc:
            log.debug("provider stream broke: %r", exc)
            return
        call.provider_ended = time.perf_counter()
        watch.stop()
        await send({"type": "http.response.body", "body": tap.rest()})


def _response_headers(resp: Response, extra: Headers, secret: str | None = None) -> Headers:
    """The provider's headers and the gateway's `extra` ones; where both set a header (e.g.
    `x-ratelimit-remaining-tokens`: the provider's is about the organisation's provider
    account, the gateway's about the caller's plan), the gateway's wins. A provider key sent
    as a query parameter (`secret`) is blanked out of what comes back: a redirect's `Location`
    repeats the query."""
    drop = _RESPONSE_DROP.union(name for name, _ in extra) if extra else _RESPONSE_DROP
    out = [(k.lower(), v) for k, v in resp.raw_headers if k.lower() not in drop]
    if secret:
        hidden = [secret.encode(), quote(secret, safe="").encode()]
        out = [(k, _blank(v, hidden)) for k, v in out]
    out += extra
    return out


def _blank(value: bytes, secrets: list[bytes]) -> bytes:
    for secret in secrets:
        value = value.replace(secret, b"[provider-key]")
    return value


def _routed_attempts(
    call: Call,
    router: TargetRouter,
    vendor: VendorProfile,
    rest: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    parsed: Any,
) -> tuple[Iterable[Attempt], int]:
    """The requests a routed call may make, in order, and how many; targets whose provider key
    the gateway cannot decrypt are left out. Each fallback request is built only when the call
    reaches it (its body is not re-serialised unless it is tried), so everything that could
    refuse the call is checked here, up front: a body with a model must have the model where the
    vendor says (a `{}` body gets it added) if any target sets one."""
    targets = [t for t in router.attempts(time.monotonic()) if t.upstream.key_error is None]
    if not targets:
        message = "No routing target of this API has a usable provider key."
        raise Refused(503, message, "provider_key_unavailable")
    source = vendor.meter.request_model
    if (
        body
        and source is not None
        and source.path is not None
        and any(t.model is not None for t in targets)
        and not can_set_model(parsed, source.path)
    ):
        # the caller's model would reach the target unchanged: refuse, do not guess
        raise Refused(
            400,
            "This API routes calls to set models: send a JSON body (Content-Type: "
            f"application/json) with the model at {source.path.text}.",
            "model_not_rewritable",
        )
    attempts = (
        _routed_attempt(call, vendor, target, rest, query, headers, body, parsed)
        for target in targets
    )
    # the first is built now: rewriting its body is the gateway's time, not the provider's
    first = next(attempts)
    return itertools.chain((first,), attempts), len(targets)


def _routed_attempt(
    call: Call,
    vendor: VendorProfile,
    target: Target,
    rest: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    parsed: Any,
) -> Attempt:
    """The request for one target: its endpoint and provider key, and its model in place of
    the caller's (where the vendor's `requestModel` says the model is)."""
    upstream = target.upstream
    headers = list(headers)
    source = vendor.meter.request_model
    if target.model is not None and source is not None:
        if source.path is not None:
            rewritten = with_model(parsed, source.path, target.model)
            if rewritten is not None:  # None: an empty body (anything else was refused)
                body = serialise(rewritten, call.strip_usage_chunk)
        elif source.kind == "header":
            headers = [(n, v) for n, v in headers if n != source.name]
            headers.append((source.name, target.model))
        elif source.kind == "queryParameter":
            query = replace_param(query, source.name, target.model)
    vendor.add_headers(headers, upstream.api_key)
    url = _url(upstream.url, rest, vendor.query(query, upstream.api_key))
    secret, sends_key = vendor.query_secret(upstream), vendor.sends_key(upstream)
    return Attempt(url, headers, body, target, secret, sends_key)


def _served_by(target: Target, call: Call) -> Headers:
    """Tell the caller which endpoint and model answered a routed call."""
    model = target.model or call.facts.model or ""
    if not (model.isascii() and model.isprintable()):
        model = ""  # the caller's free text never breaks the response head
    return [
        (b"x-aigw-target", target.endpoint.encode()),
        (b"x-aigw-model", model.encode("latin-1", "replace")),
    ]


def _reason(exc: Exception) -> str:
    if isinstance(exc, _TargetFailed):
        return "status"
    return "timeout" if isinstance(exc, TimeoutError) else "connection"


def _provider_error(exc: Exception) -> tuple[int, str, str]:
    if isinstance(exc, TimeoutError):
        return 504, "The AI provider did not answer in time.", "upstream_timeout"
    if isinstance(exc, AddressRefused):  # the address stays in the gateway's log
        message = "The AI provider's address is not one the gateway may connect to."
        return 502, message, "upstream_address_refused"
    return 502, "The AI provider could not be reached.", "upstream_error"
