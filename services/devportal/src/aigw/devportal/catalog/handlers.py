"""Builds the catalogue from publisher's API events on the JetStream stream.

One durable pull consumer reads `aigw.api.>` and dispatches on the envelope type, so the
events of one API are applied in stream order (three consumers would race: an `updated` could
land before the `published` it follows). Replicas share the consumer; the newer-event guard in
the store keeps their writes consistent. The consumer is named after the database it fills: a
new database gets a new consumer that replays the whole stream, a restart resumes where it was.
"""

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from faststream import AckPolicy, Context
from faststream.nats import DeliverPolicy, JStream, NatsMessage, NatsRouter, PullSub
from pydantic import ValidationError

from aigw.common.event_trust import EventVerifier, accept
from aigw.common.events import ApiDeleted, ApiPublished, ApiUpdated, Envelope
from aigw.common.identity import pull_inbox_prefix
from aigw.common.messaging import STREAM_NAME
from aigw.devportal.catalog import store

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


def consumer_name(database: str) -> str:
    """Durable names may not contain '.', '*', '>' or whitespace."""
    return "devportal-catalog-" + re.sub(r"[^A-Za-z0-9_-]", "_", database)


def catalog_router(database: str) -> NatsRouter:
    """A new router per app: a FastStream router belongs to the one broker it is included in."""
    router = NatsRouter()

    @router.subscriber(
        SUBJECT,
        stream=JStream(name=STREAM_NAME, declare=False),
        durable=consumer_name(database),
        # a pull consumer can be shared by replicas and hands out messages in stream order.
        # batch_size=1: a batched fetch waits until its batch fills or times out, which
        # delayed the catalogue by up to the timeout; one-message fetches return at once.
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.NACK_ON_ERROR,  # a store failure is retried, not dropped
        inbox_prefix=pull_inbox_prefix("devportal"),
    )
    async def on_api_event(
        msg: NatsMessage,
        db: Annotated[store.Db, Context("db")],
        verifier: Annotated[EventVerifier, Context("verifier")],
    ) -> None:
        if envelope := accept(verifier, msg.raw_message.subject, msg.body, msg.headers):
            await dispatch(db, envelope)

    return router
