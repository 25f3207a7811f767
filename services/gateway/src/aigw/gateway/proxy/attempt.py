"""One attempt: the request for one target, sent, and its outcome classified.

The request carries the forwarded headers, the vendor's default headers and the provider key
where the vendor wants it (a header or a query parameter); a routed target's model replaces
the caller's. A connection error, a timeout or a 429/5xx answer is a failure that sends a
routed call to its next target (`TargetFailed`); on the last target it is the caller's answer.
"""

import asyncio
from dataclasses import dataclass

from aigw.gateway.client import AddressRefused, ConnectTimeout, Pool, Response, UpstreamError
from aigw.gateway.invocation import Invocation
from aigw.gateway.proxy.model_rewrite import serialise, with_model
from aigw.gateway.routing.targets import Target
from aigw.gateway.routing.vendor import replace_param

# The answers after which a routed call tries its next target (besides errors and timeouts).
RETRY_STATUS = frozenset({429, 500, 502, 503, 504, 529})


@dataclass(slots=True)
class UpstreamRequest:
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    query_secret: str | None = None  # the provider key, when it travels in the query
    sends_key: bool = False  # the request carries the API's provider key


@dataclass(slots=True)
class ProviderAnswer:
    """The answer the call committed to: its head, and what was read of it already."""

    resp: Response
    request: UpstreamRequest
    first: bytes = b""  # a routed stream's first chunk
    data: bytes | None = None  # a whole answer of known length (not a stream)
    head_sent: bool = False  # the caller has the status and headers


class TargetFailed(Exception):
    """A routed target answered with a status that sends the call to the next target."""


def build_request(call: Invocation, target: Target) -> UpstreamRequest:
    assert call.route is not None
    vendor = call.route.vendor
    upstream = target.upstream
    headers, body, query = call.headers, call.body, call.query
    source = vendor.meter.request_model
    if call.routed:
        headers = list(headers)  # each target adds its own key
        if target.model is not None and source is not None:
            if source.path is not None:
                rewritten = with_model(call.parsed, source.path, target.model)
                if rewritten is not None:  # None: an empty body (anything else was refused)
                    body = serialise(rewritten)
            elif source.kind == "header":
                headers = [(n, v) for n, v in headers if n != source.name]
                headers.append((source.name, target.model))
            elif source.kind == "queryParameter":
                query = replace_param(query, source.name, target.model)
    vendor.add_headers(headers, upstream.api_key)
    query = vendor.query(query, upstream.api_key)
    url = f"{upstream.url}{call.rest}?{query}" if query else upstream.url + call.rest
    return UpstreamRequest(
        url, headers, body, vendor.query_secret(upstream), vendor.sends_key(upstream)
    )


async def send(
    pool: Pool, call: Invocation, request: UpstreamRequest, timeout: float | None, last: bool
) -> ProviderAnswer:
    """The answer's head and, read before the call commits to this target, a routed stream's
    first chunk or a whole answer of known length; TargetFailed, TimeoutError or
    UpstreamError if it failed (`timeout` bounds the head and a stream's first chunk)."""
    resp = None
    try:
        async with asyncio.timeout(timeout):
            resp = await pool.request(call.method, request.url, request.headers, request.body)
            if not last and resp.status in RETRY_STATUS:
                raise TargetFailed(str(resp.status))
            answer = ProviderAnswer(resp, request)
            if resp.content_type == "text/event-stream" and call.routed:
                answer.first = await resp.readany()
                if not answer.first and not last:
                    raise TargetFailed("empty stream")
        if resp.content_type != "text/event-stream" and resp.content_length is not None:
            answer.data = await resp.read()
        return answer
    except BaseException as exc:
        if isinstance(exc, TimeoutError) and resp is None and not isinstance(exc, ConnectTimeout):
            call.abandoned_attempts += 1  # the provider has the prompt
        if resp is not None:
            resp.close()
        raise


def failure_reason(exc: Exception) -> str:
    """The target-failure metric's label."""
    if isinstance(exc, TargetFailed):
        return "status"
    return "timeout" if isinstance(exc, TimeoutError) else "connection"


def provider_error(exc: Exception) -> tuple[int, str, str]:
    """The caller's answer when the last attempt failed: status, message, code."""
    if isinstance(exc, TimeoutError):
        return 504, "The AI provider did not answer in time.", "upstream_timeout"
    if isinstance(exc, AddressRefused):  # the address stays in the gateway's log
        message = "The AI provider's address is not one the gateway may connect to."
        return 502, message, "upstream_address_refused"
    return 502, "The AI provider could not be reached.", "upstream_error"


FAILURES = (TargetFailed, TimeoutError, UpstreamError)
