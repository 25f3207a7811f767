"""Learns the business plans from publisher's aigw.policy.updated events (a durable pull
consumer per database, as the catalogue's; see catalog.handlers)."""

import logging

from faststream.nats import NatsRouter
from pydantic import ValidationError

from aigw.common.events import Envelope, PolicyUpdated
from aigw.devportal.catalog.store import Db, event_micros
from aigw.devportal.policies import store
from aigw.devportal.projection import projection_router

log = logging.getLogger(__name__)


async def on_policy_updated(db: Db, envelope: Envelope) -> None:
    try:
        event = PolicyUpdated.from_envelope(envelope)
    except ValidationError as exc:
        # a malformed event will never parse: acknowledge it rather than redeliver forever
        log.error("skipping a malformed policy event: %s", exc.errors(include_input=False))
        return
    fields = event.model_dump(mode="json", exclude={"name"})
    await store.upsert_if_newer(db, event.name, event_micros(envelope.time), fields)


def policies_router(database: str) -> NatsRouter:
    return projection_router("policies", PolicyUpdated.TYPE, database, on_policy_updated)
