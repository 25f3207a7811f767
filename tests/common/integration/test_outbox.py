"""The outbox keeps an acknowledged change's event until NATS takes it, even across an outage."""

from pathlib import Path

import nats
import pytest
from faststream.nats import NatsBroker
from faststream.nats.security import NatsNKey
from pymongo import AsyncMongoClient

from aigw.common.event_bus import EventBus
from aigw.common.events import ApplicationCreated, new_event
from aigw.common.messaging import STREAM_NAME
from aigw.common.outbox import OUTBOX, Outbox, with_outbox
from aigw.devtools import nats_auth
from aigw.devtools.processes import free_port, nats_server
from tests.support.events import stream_events
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_event_staged_during_nats_outage_is_published_once_nats_returns(
    infra, unique, tmp_path: Path
) -> None:
    config = infra.credentials / nats_auth.SERVER_CONFIG
    server = nats_server(free_port(), tmp_path / "js", config, tmp_path / "nats.log")
    server.start()
    server.wait_ready()
    url = f"nats://127.0.0.1:{server.port}"
    await nats_auth.provision_streams(url, infra.credentials)
    broker = NatsBroker(
        url,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.2,
        security=NatsNKey.from_seed(infra.identity("devportal").seed),
        inbox_prefix=infra.identity("devportal").inbox_prefix,
    )
    await broker.connect()
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"outbox_{unique}"]
    outbox = Outbox(db, EventBus(broker, infra.signer("devportal")).publish, ["applications"])
    await outbox.ensure_indexes()
    try:
        server.stop()  # NATS goes away after the service started
        event = new_event(
            ApplicationCreated(application_id="app-1", name="demo", owner="alice"),
            source="devportal",
            actor="alice",
        )
        await db.applications.insert_one(with_outbox({"_id": "app-1", "name": "demo"}, event))
        await db.applications.insert_one({"_id": "app-0", "name": "nothing staged", OUTBOX: []})
        await outbox.try_flush("applications", "app-1")  # fails quietly: the write stands
        doc = await db.applications.find_one({"_id": "app-1"})
        assert doc is not None
        assert [e["id"] for e in doc[OUTBOX]] == [event.id]

        server.start()  # same port, same store
        server.wait_ready()
        await eventually(lambda: broker.connection.is_connected, what="the broker reconnected")
        assert await outbox.sweep() == 1
        assert await outbox.sweep() == 0  # nothing left staged
        await outbox.flush("applications", "app-1")  # a repeated flush publishes nothing new

        events = await stream_events(url)
        assert [e.id for e in events] == [event.id]
        assert events[0].data["owner"] == "alice"
        nc = await nats.connect(url, **infra.nats_options())
        info = await nc.jetstream().stream_info(STREAM_NAME)
        await nc.close()
        assert info.state.messages == 1
    finally:
        await broker.stop()
        await mongo.close()
        server.stop()
