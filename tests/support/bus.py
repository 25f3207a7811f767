"""Put events on the authenticated bus as the service that emits them would (signed, as that
service's NATS identity), or forge them, for tests of what consumers accept."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from nats.aio.client import Client as NatsClient

from aigw.common.events import Envelope, EventPayload, new_event
from aigw.common.identity import PROVISIONER, emitter_of
from aigw.common.messaging import signed_message, stream_for
from tests.support.infra import session_infra


def emitted(
    payload: EventPayload, *, actor: str = "tester", correlation_id: str | None = None
) -> Envelope:
    """An envelope as the service that owns the payload's subject would make it."""
    source = emitter_of(payload.TYPE)
    assert source is not None, f"no service emits {payload.TYPE}"
    return new_event(payload, source=source, actor=actor, correlation_id=correlation_id)


@asynccontextmanager
async def connected(
    identity: str = PROVISIONER, url: str | None = None
) -> AsyncIterator[NatsClient]:
    """`url`: a NATS of the test's own (the session's credentials); else the session's."""
    infra = session_infra()
    servers = (url or infra.nats_url).split(",")
    nc = await nats.connect(servers=servers, **infra.nats_options(identity))
    try:
        yield nc
    finally:
        await nc.close()


async def publish_signed(nc: NatsClient, event: Envelope, *, msg_id: str | None = None) -> None:
    """Publish as `event.source` signs (nc must be connected as that identity)."""
    body, headers = signed_message(event, session_infra().signer(event.source))
    if msg_id is not None:
        headers["Nats-Msg-Id"] = msg_id
    await nc.jetstream().publish(event.type, body, stream=stream_for(event.type), headers=headers)


async def publish(*events: Envelope, msg_id: str | None = None, url: str | None = None) -> None:
    """Publish each event as its source service: its NATS identity and its signature."""
    for event in events:
        async with connected(event.source, url) as nc:
            await publish_signed(nc, event, msg_id=msg_id)


async def publish_many(events: list[Envelope]) -> None:
    """Publish many events quickly: one connection per emitting service, in order per service."""
    by_source: dict[str, list[Envelope]] = {}
    for event in events:
        by_source.setdefault(event.source, []).append(event)
    for source, own in by_source.items():
        async with connected(source) as nc:
            for event in own:
                await publish_signed(nc, event)
