"""Learns the custom vendors' API definitions from publisher's aigw.vendor.changed events (a
read model of aigw.devportal.projection)."""

from faststream.nats import NatsRouter

from aigw.common.events import Envelope, VendorChanged
from aigw.devportal.projection import event_micros, projection_router
from aigw.devportal.vendors.repository import VendorDefinitionDoc, VendorDefinitionRepository


async def fold(vendors: VendorDefinitionRepository, envelope: Envelope) -> None:
    event = VendorChanged.from_envelope(envelope)
    deleted = event.action == "deleted"
    definition = VendorDefinitionDoc(
        api_definition=None if deleted else event.api_definition, deleted=deleted
    )
    at = event_micros(envelope.time)
    await vendors.upsert_if_newer(event.vendor.name, event.vendor.version, at, definition)


def vendors_router(database: str) -> NatsRouter:
    return projection_router(
        "vendors", VendorChanged.TYPE, database, VendorDefinitionRepository, fold
    )
