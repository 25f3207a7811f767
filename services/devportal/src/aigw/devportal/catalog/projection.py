"""Builds the catalogue from publisher's API events on the JetStream stream.

One durable pull consumer (aigw.devportal.projection) reads `aigw.api.>` and dispatches on the
envelope type, so the events of one API are applied in stream order (three consumers would
race: an `updated` could land before the `published` it follows). Other API events (created,
deployed...) are not the portal's concern.
"""

from faststream.nats import NatsRouter

from aigw.common.events import ApiDeleted, ApiPublished, ApiUpdated, Envelope
from aigw.devportal.catalog.repository import CatalogRepository, Listing, VendorRefDoc
from aigw.devportal.projection import event_micros, projection_router

SUBJECT = "aigw.api.>"
CATALOG = "catalog"  # the read model's kind: its consumer's name


def listing(event: ApiPublished | ApiUpdated) -> Listing:
    return Listing(
        name=event.name,
        context=event.context,
        version=event.version,
        vendor=VendorRefDoc(name=event.vendor.name, version=event.vendor.version),
        description=event.description,
        lifecycle_status=event.lifecycle_status,
        policies=list(event.policies),
        # leaving PUBLISHED (deprecated, blocked, retired...) takes it out of the catalogue
        listed=event.lifecycle_status == "PUBLISHED",
    )


async def fold(catalog: CatalogRepository, envelope: Envelope) -> None:
    """Apply one verified API event to the catalogue."""
    at = event_micros(envelope.time)
    if envelope.type == ApiPublished.TYPE:
        published = ApiPublished.from_envelope(envelope)
        await catalog.publish(published.api_id, at, listing(published), published.route_prefix)
    elif envelope.type == ApiUpdated.TYPE:
        updated = ApiUpdated.from_envelope(envelope)
        await catalog.update(updated.api_id, at, listing(updated), updated.route_prefix)
    elif envelope.type == ApiDeleted.TYPE:
        await catalog.tombstone(ApiDeleted.from_envelope(envelope).api_id, at)


def catalog_router(database: str) -> NatsRouter:
    return projection_router(CATALOG, SUBJECT, database, CatalogRepository, fold)
