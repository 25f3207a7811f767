"""Admission: backend protection, then the subscription's plan (for a test key, the built-in
test-key plan, counted per user), reserving the call's estimated cost (`aigw.gateway.quota`)."""

from aigw.gateway.invocation import Invocation
from aigw.gateway.quota.enforcer import QuotaEnforcer


async def admit(quota: QuotaEnforcer, call: Invocation) -> None:
    """Note the call's plan and admission on `call`, or raise QuotaRefused (429 or 503)."""
    route, entry = call.route, call.entry
    assert route is not None
    assert entry is not None
    quota.protect_backend(route, entry.key_type)
    if entry.api_id is None:
        call.plan = quota.plan_for(entry.application_id, route.api_id)
    else:  # a test key: no subscription, the test-key plan per user (its application id)
        call.plan = quota.test_key_plan
    if call.plan is not None:
        call.admission = await quota.admit(
            entry.application_id, route.api_id, call.plan, call.facts, call.body_size
        )
