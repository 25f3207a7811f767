"""Admission control on the hot path: backend protection, then the subscription's plan, or
for a test key the built-in test-key plan (`TestKey`, from the gateway's settings).

A test key has no subscription, so no plan of the API applies to it; instead every test key is
counted against `test_key_plan` under its application id, which devportal sets to
`testkey:<user>` for all of a user's test keys: the quota is per user and API, and minting
more keys gives no more of it.

A subscription whose plan is `Unlimited`, has no limits, or is unknown to the gateway (logged
once per name) is not counted at all. Token quotas reserve an estimate at admission: about one
token per four bytes of request body, plus `max_completion_tokens` / `max_tokens` from the body
or the plan's `default_completion_tokens`.
"""

import logging
import time
from collections.abc import Callable

from aigw.common.events import KeyType
from aigw.gateway.errors import Refused
from aigw.gateway.metering.meter import estimate_tokens
from aigw.gateway.metering.request import RequestFacts
from aigw.gateway.quota.book import Admission, Cost, QuotaBook, QuotaVerdict
from aigw.gateway.quota.sync import QuotaSync
from aigw.gateway.quota.throttle import BackendThrottle
from aigw.gateway.routing.plans import UNLIMITED, Plan, test_key_plan
from aigw.gateway.routing.table import Route, RoutingTable

log = logging.getLogger(__name__)

# Sync ticks a call may wait for when only the split-with-peers assumption refuses it; after
# that the exact known count decides (peers that are slow to confirm never starve a call).
MAX_SYNC_WAITS = 12
DEFAULT_TEST_KEY_PLAN = test_key_plan(10, 10_000, 256)  # the settings' defaults


class QuotaRefused(Refused):
    """Refused by a quota or by backend protection; `kind` labels the rejection metric."""

    def __init__(
        self, status: int, message: str, code: str, kind: str, headers: list[tuple[bytes, bytes]]
    ) -> None:
        super().__init__(status, message, code, headers)
        self.kind = kind


class QuotaEnforcer:
    def __init__(
        self,
        table: RoutingTable,
        book: QuotaBook,
        sync: QuotaSync | None,
        test_key_plan: Plan = DEFAULT_TEST_KEY_PLAN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self.book = book
        self.sync = sync
        self.test_key_plan = test_key_plan
        self.throttle = BackendThrottle()
        self._unknown_plans: set[str] = set()
        self.clock = clock  # quota windows are measured on it (tests pass their own)

    def plan_for(self, application_id: str, api_id: str) -> Plan | None:
        name = self.table.subscription_policies.get((application_id, api_id))
        if name is None or name == UNLIMITED:
            return None
        plan = self.table.plans.get(name)
        if plan is None:
            if name not in self._unknown_plans:
                self._unknown_plans.add(name)
                log.warning("unknown plan %r: its subscriptions are not limited", name)
            return None
        return plan if plan.limits else None

    def protect_backend(self, route: Route, key_type: KeyType) -> None:
        per_second = route.throttle_for(key_type)
        if per_second is not None and not self.throttle.allow(
            route.api_id, key_type, per_second, self.clock()
        ):
            message = "The AI provider of this API is at its request rate limit; retry shortly."
            raise QuotaRefused(
                503, message, "backend_throttled", "backend", [(b"retry-after", b"1")]
            )

    async def admit(
        self, app: str, api: str, plan: Plan, facts: RequestFacts, body_size: int
    ) -> Admission:
        cost = _cost(plan, facts, body_size)
        verdict = self.book.check(app, api, plan, cost, self.clock())
        waits = 0
        while verdict is not None and verdict.retry_after_sync and self.sync is not None:
            if waits == MAX_SYNC_WAITS:
                verdict = None  # the peers are slow to confirm: trust the exact count
                break
            await self.sync.next_tick()
            waits += 1
            verdict = self.book.check(app, api, plan, cost, self.clock())
        now = self.clock()
        if verdict is None:
            return self.book.charge(app, api, plan, cost, now)
        raise _exceeded(plan, verdict, self.book.headers(app, api, plan, now))


def _cost(plan: Plan, facts: RequestFacts, body_size: int) -> Cost:
    if not plan.limits_tokens:
        return Cost(1, 0, 0)
    completion = facts.max_completion_tokens or plan.default_completion_tokens
    return Cost(1, estimate_tokens(body_size), completion)


def _exceeded(
    plan: Plan, verdict: QuotaVerdict, headers: list[tuple[bytes, bytes]]
) -> QuotaRefused:
    what = "requests" if verdict.kind == "requests" else verdict.kind.replace("_", " ")
    message = (
        f"Quota exceeded: plan {plan.name!r} allows {verdict.limit} {what} per window; "
        f"retry in {verdict.retry_after} s."
    )
    headers = [(b"retry-after", str(verdict.retry_after).encode()), *headers]
    return QuotaRefused(429, message, "quota_exceeded", verdict.kind, headers)
