"""Learns the business plans from publisher's aigw.policy.updated events (a read model of
aigw.devportal.projection)."""

from faststream.nats import NatsRouter

from aigw.common.events import Envelope, PolicyUpdated
from aigw.devportal.policies.repository import PlanFields, PolicyRepository, QuotaLimitDoc
from aigw.devportal.projection import event_micros, projection_router


def plan(event: PolicyUpdated) -> PlanFields:
    return PlanFields(
        description=event.description,
        limits=[
            QuotaLimitDoc(
                unit=limit.unit,
                requests=limit.requests,
                total_tokens=limit.total_tokens,
                prompt_tokens=limit.prompt_tokens,
                completion_tokens=limit.completion_tokens,
            )
            for limit in event.limits
        ],
        default_completion_tokens=event.default_completion_tokens,
        deleted=event.deleted,
    )


async def fold(plans: PolicyRepository, envelope: Envelope) -> None:
    event = PolicyUpdated.from_envelope(envelope)
    await plans.upsert_if_newer(event.name, event_micros(envelope.time), plan(event))


def policies_router(database: str) -> NatsRouter:
    return projection_router("policies", PolicyUpdated.TYPE, database, PolicyRepository, fold)
