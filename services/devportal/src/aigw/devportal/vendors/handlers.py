"""Learns the custom vendors' API definitions from publisher's aigw.vendor.changed events (a
durable pull consumer per database, as the catalogue's; see catalog.handlers)."""

import logging
import re
from typing import Annotated

from faststream import AckPolicy, Context
from faststream.nats import DeliverPolicy, JStream, NatsMessage, NatsRouter, PullSub
from pydantic import ValidationError

from aigw.common.event_trust import EventVerifier, accept
from aigw.common.events import Envelope, VendorChanged
from aigw.common.identity import pull_inbox_prefix
from aigw.common.messaging import STREAM_NAME
from aigw.devportal.catalog.store import Db, event_micros
from aigw.devportal.vendors import store

log = logging.getLogger(__name__)


async def on_vendor_changed(db: Db, envelope: Envelope) -> None:
    try:
        event = VendorChanged.from_envelope(envelope)
    except ValidationError as exc:
        # a malformed event will never parse: acknowledge it rather than redeliver forever
        log.error("skipping a malformed vendor event: %s", exc.errors(include_input=False))
        return
    fields = {
        "api_definition": None if event.action == "deleted" else event.api_definition,
        "deleted": event.action == "deleted",
    }
    vendor = event.vendor
    await store.upsert_if_newer(
        db, vendor.name, vendor.version, event_micros(envelope.time), fields
    )


def consumer_name(database: str) -> str:
    """Durable names may not contain '.', '*', '>' or whitespace."""
    return "devportal-vendors-" + re.sub(r"[^A-Za-z0-9_-]", "_", database)


def vendors_router(database: str) -> NatsRouter:
    router = NatsRouter()

    @router.subscriber(
        VendorChanged.TYPE,
        stream=JStream(name=STREAM_NAME, declare=False),
        durable=consumer_name(database),
        pull_sub=PullSub(batch_size=1, timeout=5.0),  # batched fetches wait: see catalog
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        inbox_prefix=pull_inbox_prefix("devportal"),
    )
    async def on_vendor_event(
        msg: NatsMessage,
        db: Annotated[Db, Context("db")],
        verifier: Annotated[EventVerifier, Context("verifier")],
    ) -> None:
        if envelope := accept(verifier, msg.raw_message.subject, msg.body, msg.headers):
            await on_vendor_changed(db, envelope)

    return router
