"""Learns the custom vendors' API definitions from publisher's aigw.vendor.changed events (a
read model of aigw.devportal.projection)."""

import logging

from faststream.nats import NatsRouter
from pydantic import ValidationError

from aigw.common.events import Envelope, VendorChanged
from aigw.devportal.catalog.store import Db, event_micros
from aigw.devportal.projection import projection_router
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


def vendors_router(database: str) -> NatsRouter:
    return projection_router("vendors", VendorChanged.TYPE, database, on_vendor_changed)
