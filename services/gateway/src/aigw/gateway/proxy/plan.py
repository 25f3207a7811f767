"""The plan: the targets a call tries, in order. A direct call (no routing policy for the key
type) is a plan with one target, its endpoint; a routed call's come from its balancer, minus
the targets whose provider key the gateway cannot decrypt.

Everything that could refuse a routed call is checked here, before anything is sent: a body
with a model must have the model where the vendor says (a `{}` body gets it added) if any
target sets one, since the caller's model would otherwise reach that target unchanged.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from aigw.gateway.errors import Refused
from aigw.gateway.invocation import Invocation
from aigw.gateway.proxy.balancer import MAX_BALANCERS, Balancer, Balancers
from aigw.gateway.proxy.model_rewrite import can_set_model
from aigw.gateway.routing.targets import Target


@dataclass(frozen=True, slots=True)
class CallPlan:
    targets: list[Target]  # never empty
    timeout: float | None = None  # per attempt (routed calls)
    balancer: Balancer | None = None  # routed calls: told which targets failed


class Planner:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # suspensions are measured on it
        self.balancers = Balancers()
        # a direct call's plan is the same for every call to its endpoint: made once
        self._direct: dict[int, CallPlan] = {}

    def plan(self, call: Invocation) -> CallPlan:
        policy = call.routing
        if policy is None:
            upstream = call.upstream
            assert upstream is not None
            plan = self._direct.get(id(upstream))
            if plan is None or plan.targets[0].upstream is not upstream:
                if len(self._direct) >= MAX_BALANCERS:
                    self._direct.clear()
                plan = self._direct[id(upstream)] = CallPlan([Target("", upstream, None)])
            return plan
        balancer = self.balancers.for_policy(policy)
        targets = [t for t in balancer.attempts(self.clock()) if t.upstream.key_error is None]
        if not targets:
            message = "No routing target of this API has a usable provider key."
            raise Refused(503, message, "provider_key_unavailable")
        _check_model_place(call, targets)
        return CallPlan(targets, policy.timeout, balancer)

    def failed(self, plan: CallPlan, target: Target) -> None:
        if plan.balancer is not None:
            plan.balancer.failed(target, self.clock())


def _check_model_place(call: Invocation, targets: list[Target]) -> None:
    assert call.route is not None
    source = call.route.vendor.meter.request_model
    if (
        call.body
        and source is not None
        and source.path is not None
        and any(t.model is not None for t in targets)
        and not can_set_model(call.parsed, source.path)
    ):
        raise Refused(
            400,
            "This API routes calls to set models: send a JSON body (Content-Type: "
            f"application/json) with the model at {source.path.text}.",
            "model_not_rewritable",
        )
