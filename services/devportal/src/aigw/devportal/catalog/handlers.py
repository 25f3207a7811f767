"""Builds the catalogue from publisher's API events on the JetStream stream.

One durable pull consumer (aigw.devportal.projection) reads `aigw.api.>` and dispatches on the
envelope type, so the events of one API are applied in stream order (three consumers would
race: an `updated` could land before the `published` it follows).
"""

import logging
from collections.abc import Awaitable, Callable

from faststream.nats import NatsRouter
from pydantic import ValidationError

from aigw.common.events import ApiDeleted, ApiPublished, ApiUpdated, Envelope
from aigw.devportal.catalog import store
from aigw.devportal.projection import projection_router

log = logging.getLogger(__name__)

SUBJECT = "aigw.api.>"

Handler = Callable[[store.Db, Envelope], Awaitable[None]]


async def on_published(db: store.Db, envelope: Envelope) -> None:
    event = ApiPublished.from_envelope(envelope)
    fields = {
        "name": event.name,
        "context": event.context,
        "version": event.version,
        "route_prefix": event.route_prefix,
        "vendor": event.vendor.model_dump(),
        "description": event.description,
        "lifecycle_status": event.lifecycle_status,
        "policies": event.policies,
        "listed": True,
        "deleted": False,
    }
    await store.upsert_if_newer(db, event.api_id, store.event_micros(envelope.time), fields)


async def on_updated(db: store.Db, envelope: Envelope) -> None:
    event = ApiUpdated.from_envelope(envelope)
    fields = {
        "name": event.name,
        "context": event.context,
        "version": event.version,
        "vendor": event.vendor.model_dump(),
        "description": event.description,
        "lifecycle_status": event.lifecycle_status,
        "policies": event.policies,
        **({"route_prefix": event.route_prefix} if event.route_prefix else {}),
        # leaving PUBLISHED (deprecated, blocked, retired...) takes it out of the catalogue
        "listed": event.lifecycle_status == "PUBLISHED",
    }
    await store.update_if_newer(db, event.api_id, store.event_micros(envelope.time), fields)


async def on_deleted(db: store.Db, envelope: Envelope) -> None:
    event = ApiDeleted.from_envelope(envelope)
    tombstone = {"listed": False, "deleted": True}
    await store.upsert_if_newer(db, event.api_id, store.event_micros(envelope.time), tombstone)


HANDLERS: dict[str, Handler] = {
    ApiPublished.TYPE: on_published,
    ApiUpdated.TYPE: on_updated,
    ApiDeleted.TYPE: on_deleted,
}


async def dispatch(db: store.Db, envelope: Envelope) -> None:
    """Apply one verified event; other API events (created, deployed...) are not the portal's
    concern."""
    try:
        handler = HANDLERS.get(envelope.type)
        if handler is not None:
            await handler(db, envelope)
    except ValidationError as exc:
        # a malformed event will never parse: acknowledge it rather than redeliver forever
        log.error("skipping a malformed API event: %s", exc.errors(include_input=False))


def catalog_router(database: str) -> NatsRouter:
    return projection_router("catalog", SUBJECT, database, dispatch)
