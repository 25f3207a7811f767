"""Trying a plan's targets in order until one answers (a direct call's plan has one).

A routed call moves to its next target on a connection error, a timeout or a 429/5xx, except
on the last target, whose answer (or error) is the caller's; every failed target rests
(`Balancer.failed`) and is counted in `aigw_gateway_target_failures_total`. Each target's
request is built only when the call reaches it, the first before the provider time starts.
"""

import time

from aigw.gateway.client import Pool
from aigw.gateway.invocation import Invocation
from aigw.gateway.proxy.attempt import (
    FAILURES,
    RETRY_STATUS,
    ProviderAnswer,
    build_request,
    failure_reason,
    provider_error,
    send,
)
from aigw.gateway.proxy.body import ClientGone
from aigw.gateway.proxy.disconnect import DisconnectWatch
from aigw.gateway.proxy.metrics import GatewayMetrics
from aigw.gateway.proxy.plan import CallPlan, Planner


class ProviderFailed(Exception):
    """The last target failed: the caller gets this status and OpenAI-style error."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


async def first_answer(
    call: Invocation,
    pool: Pool,
    plan: CallPlan,
    planner: Planner,
    metrics: GatewayMetrics,
    watch: DisconnectWatch,
) -> ProviderAnswer:
    targets = plan.targets
    request = build_request(call, targets[0])
    call.provider_started = time.perf_counter()
    trace = call.trace  # None unless traced (proxy.tracing)
    for number, target in enumerate(targets, 1):
        last = number == len(targets)
        if call.routed:
            call.target = target
            if number > 1:
                request = build_request(call, target)
        if trace is not None:
            trace.attempt(call, request.url, request.headers)
        try:
            answer = await send(pool, call, request, plan.timeout, last)
        except FAILURES as exc:
            if trace is not None:
                trace.attempt_failed(exc)
            if watch.absorb():
                raise ClientGone from None
            if call.routed:
                planner.failed(plan, target)
                metrics.failed_target(call.label, target.endpoint, failure_reason(exc))
            if last:
                raise ProviderFailed(*provider_error(exc)) from None
            continue
        if call.routed and answer.resp.status in RETRY_STATUS:
            # the last target failed too: its answer is the caller's, and it rests as well
            planner.failed(plan, target)
            metrics.failed_target(call.label, target.endpoint, "status")
        return answer
    raise AssertionError("a plan has at least one target")
