"""What happens once a call is answered: metrics, quota settlement, the usage record and the
access log line (both queued; published and written later off the hot path).

Token counts are the provider's (`usage` of a JSON answer, the usage chunk of a stream). When
a successful answer carried none (the client left mid-stream, or the vendor does not report
usage), they are estimated: completion tokens from the content relayed (about four characters
per token), prompt tokens from the request size. Such records have status 499 (client left)
or a 2xx status with estimated counts.

A response-cache hit (no provider call) settles its admission like an answered call, with no
tokens: it consumes a request of the quota; its record says `cache: hit` and the tokens the
cached answer cost (`tokens_saved`).
"""

import time

from aigw.gateway.asgi import CLIENT_CLOSED
from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.meter import Usage, estimate_tokens
from aigw.gateway.metering.recorder import CallRecord, UsageRecorder
from aigw.gateway.proxy.access_log import AccessLog, entry
from aigw.gateway.proxy.metrics import GatewayMetrics
from aigw.gateway.quota.enforcer import QuotaEnforcer
from aigw.gateway.routing.table import RoutingTable


class Settlement:
    def __init__(
        self,
        table: RoutingTable,
        metrics: GatewayMetrics,
        quota: QuotaEnforcer | None,
        recorder: UsageRecorder | None,
        access_log: AccessLog | None = None,
    ) -> None:
        self.table, self.metrics, self.quota, self.recorder = table, metrics, quota, recorder
        self.access_log = access_log

    def settle(self, call: Invocation) -> None:
        ended = time.perf_counter()
        usage = final_usage(call)
        model = usage.served_model or "-"
        answered = call.provider_started > 0.0
        provider = call.provider_ended - call.provider_started if answered else None
        metrics = self.metrics
        metrics.observe(call.label, model, call.status, ended - call.started, provider)
        metrics.count_tokens(call.label, model, usage.prompt_tokens, usage.completion_tokens)
        if call.intervention is not None:
            metrics.intervened(call.label, call.intervention.guardrail, call.intervention.direction)
        if call.admission is not None and self.quota is not None:
            book = self.quota.book
            # a guardrail's intervention and a cache hit count a request (with no tokens when
            # the provider was not called)
            answered_here = call.intervention is not None or call.cache == "hit"
            if call.provider_status or call.abandoned_attempts or answered_here:
                prompt, completion = usage.prompt_tokens, usage.completion_tokens
                book.settle(call.admission, prompt, completion, usage.total_tokens)
            else:
                book.release(call.admission)
        if self.recorder is not None and call.entry is not None:
            self.recorder.add(self._record(call, usage, ended - call.started, provider))
        if self.access_log is not None:
            self.access_log.add(entry(call, usage, ended - call.started, provider))

    def _record(
        self, call: Invocation, usage: Usage, seconds: float, provider: float | None
    ) -> CallRecord:
        entry = call.entry
        assert entry is not None
        first = call.stream.first_token_at if call.stream is not None else None
        return CallRecord(
            at=time.time(),
            request_id=call.request_id,
            api_id=call.api,
            application_id=entry.application_id,
            subscriber=self.table.application_owners.get(entry.application_id, ""),
            key_type=entry.key_type,
            requested_model=call.facts.model,
            served_model=usage.served_model or (call.target.model if call.target else None),
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            status=CLIENT_CLOSED if call.client_gone else call.status,
            stream=call.stream is not None,
            gateway_ms=(seconds - (provider or 0.0)) * 1000,
            provider_ms=(provider or 0.0) * 1000,
            ttft_ms=None if first is None else (first - call.provider_started) * 1000,
            target=call.target.endpoint if call.target is not None else None,
            remaining_tokens=usage.remaining_tokens,
            estimated=usage.estimated,
            guardrail=call.intervention.guardrail if call.intervention else None,
            guardrail_direction=call.intervention.direction if call.intervention else None,
            cache=call.cache,
            tokens_saved=call.tokens_saved,
        )


def final_usage(call: Invocation) -> Usage:
    """The provider's counts, or an estimate for an answered call that reported none. Routed
    attempts abandoned on a timeout add their prompt (estimated): the provider read it."""
    stream = call.stream
    usage = call.usage or (stream.usage if stream is not None else None) or Usage()
    if not usage.reported and 200 <= call.provider_status < 300:
        completion = estimate_tokens(stream.content_chars) if stream is not None else 0
        usage.prompt_tokens, usage.completion_tokens = estimate_tokens(call.body_size), completion
        usage.total_tokens = usage.prompt_tokens + completion
        usage.estimated = True
    if call.abandoned_attempts:
        abandoned = estimate_tokens(call.body_size) * call.abandoned_attempts
        usage.prompt_tokens += abandoned
        usage.total_tokens += abandoned
        usage.estimated = True
    return usage
