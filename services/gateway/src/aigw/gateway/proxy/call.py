"""One invocation's bookkeeping, and what happens once it is answered: metrics, quota
settlement and the usage record (queued; published later off the hot path).

Token counts are the provider's (`usage` of a JSON answer, the usage chunk of a stream). When
a successful answer carried none (the client left mid-stream, or the vendor does not report
usage), they are estimated: completion tokens from the content relayed (about four characters
per token), prompt tokens from the request size. Such records have status 499 (client left)
or a 2xx status with estimated counts.
"""

import time
import zlib
from dataclasses import dataclass

from aigw.gateway.metering.meter import Meter, Usage, estimate_tokens
from aigw.gateway.metering.recorder import CallRecord, UsageRecorder
from aigw.gateway.metering.request import NO_FACTS, RequestFacts
from aigw.gateway.metering.sse import StreamTap
from aigw.gateway.proxy.metrics import GatewayMetrics
from aigw.gateway.proxy.upstream_http import Response
from aigw.gateway.quota.book import Admission
from aigw.gateway.quota.enforcer import QuotaEnforcer
from aigw.gateway.quota.plans import Plan
from aigw.gateway.routing.table import KeyEntry, RoutingTable
from aigw.gateway.routing.targets import Target

CLIENT_CLOSED = 499  # the caller left before the end of the answer (nginx's code)
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass(slots=True)
class Call:
    started: float
    api: str = "-"
    status: int = 500
    entry: KeyEntry | None = None
    facts: RequestFacts = NO_FACTS
    body_size: int = 0
    strip_usage_chunk: bool = False
    plan: Plan | None = None
    admission: Admission | None = None
    provider_status: int = 0  # 0: the provider never answered
    provider_started: float = 0.0
    provider_ended: float = 0.0
    usage: Usage | None = None
    tap: StreamTap | None = None
    client_gone: bool = False
    target: Target | None = None  # the routing target that answered (routed calls)
    abandoned_attempts: int = 0  # routed attempts given up after the prompt was sent


def usage_from_body(data: bytes, resp: Response, meter: Meter) -> Usage:
    """What the vendor's metering finds in an answer: its headers, and its body if it is JSON
    (decompressed for reading if the provider compressed it)."""
    body: bytes | None = data if resp.content_type.endswith("json") else None
    encoding = resp.headers.get("content-encoding", "").lower()
    if body is not None and encoding in _DECODERS:
        try:
            body = zlib.decompress(body, _DECODERS[encoding])
        except zlib.error:
            body = None
    elif encoding not in ("", "identity"):
        body = None
    return meter.answer(body, resp.headers)


def _final_usage(call: Call) -> Usage:
    """The provider's counts, or an estimate for an answered call that reported none. Routed
    attempts abandoned on a timeout add their prompt (estimated): the provider read it."""
    usage = call.usage or (call.tap.usage if call.tap is not None else None) or Usage()
    if not usage.reported and 200 <= call.provider_status < 300:
        completion = estimate_tokens(call.tap.content_chars) if call.tap is not None else 0
        usage.prompt_tokens, usage.completion_tokens = estimate_tokens(call.body_size), completion
        usage.total_tokens = usage.prompt_tokens + completion
        usage.estimated = True
    if call.abandoned_attempts:
        abandoned = estimate_tokens(call.body_size) * call.abandoned_attempts
        usage.prompt_tokens += abandoned
        usage.total_tokens += abandoned
        usage.estimated = True
    return usage


def finish_call(
    call: Call,
    table: RoutingTable,
    metrics: GatewayMetrics,
    quota: QuotaEnforcer | None,
    recorder: UsageRecorder | None,
) -> None:
    ended = time.perf_counter()
    usage = _final_usage(call)
    model = usage.served_model or "-"
    answered = call.provider_started > 0.0
    provider = call.provider_ended - call.provider_started if answered else None
    metrics.observe(call.api, model, call.status, ended - call.started, provider)
    metrics.count_tokens(call.api, model, usage.prompt_tokens, usage.completion_tokens)
    if call.admission is not None and quota is not None:
        if call.provider_status or call.abandoned_attempts:
            quota.book.settle(
                call.admission, usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
            )
        else:
            quota.book.release(call.admission)
    if recorder is not None and call.entry is not None:
        recorder.add(_record(call, table, usage, ended - call.started, provider))


def _record(
    call: Call, table: RoutingTable, usage: Usage, seconds: float, provider: float | None
) -> CallRecord:
    entry = call.entry
    assert entry is not None
    first = call.tap.first_token_at if call.tap is not None else None
    return CallRecord(
        at=time.time(),
        api_id=call.api,
        application_id=entry.application_id,
        subscriber=table.application_owners.get(entry.application_id, ""),
        key_type=entry.key_type,
        requested_model=call.facts.model,
        served_model=usage.served_model or (call.target.model if call.target else None),
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        status=CLIENT_CLOSED if call.client_gone else call.status,
        stream=call.tap is not None,
        gateway_ms=(seconds - (provider or 0.0)) * 1000,
        provider_ms=(provider or 0.0) * 1000,
        ttft_ms=None if first is None else (first - call.provider_started) * 1000,
        target=call.target.endpoint if call.target is not None else None,
        remaining_tokens=usage.remaining_tokens,
        estimated=usage.estimated,
    )
