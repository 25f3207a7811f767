"""NATS goes away and comes back (issue 14): the gateway serves from its table all along, a
management write made meanwhile is acknowledged (its event kept in the publisher's outbox),
and once NATS is back the gateway routes it at once, not after nats-py's ordered consumer
misses two heartbeats (10-15 s, as it did). The change is in the stream exactly once.

The time from NATS's return to the route is measured by `python -m aigw.devtools.bench_nats`
(README: "Riding out a NATS outage"); here it is only bounded, well below the old delay."""

import uuid

import pytest

from aigw.common.crypto import SecretBox
from aigw.common.events import ApiDeployed
from aigw.gateway.settings import Settings
from tests.support.events import stream_events
from tests.support.gateway import CHAT, PATH, Events, bearer
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsNode, gateway_and_publisher
from tests.support.stateful_gateway import api_with_key
from tests.support.tokens import TestSigner
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CALLS = 100
ROUTED_WITHIN = 5.0  # seconds after NATS is back; nats-py's own recovery took 10-15 s


async def test_a_change_made_while_nats_is_down_is_routed_as_soon_as_it_is_back(
    node: NatsNode,
    infra: Infra,
    secret_key: str,
    signer: TestSigner,
    gateway_settings: Settings,
    mock_provider: str,
) -> None:
    unique = uuid.uuid4().hex[:8]
    events = Events(node.url, SecretBox(secret_key))
    prefix, key = await api_with_key(node.url, infra, events, mock_provider, stem="ret")
    owner = signer.auth(f"owner-{unique}", ("publisher",))
    serving = gateway_and_publisher(
        node.url, infra, secret_key, signer, gateway_settings, unique, key
    )
    async with serving as (gateway, publisher, client):
        connection = gateway.app.follower.connection()
        assert connection is not None

        node.stop()
        await eventually(lambda: not connection.is_connected)
        during = [
            (await client.post(f"/{prefix}{PATH}", json=CHAT, headers=bearer(key))).status_code
            for _ in range(CALLS)
        ]
        assert during == [200] * CALLS  # served from the table it has

        # a management write meanwhile: acknowledged, its event waits in the outbox
        production = f"{mock_provider}/p/{unique}"
        new_id = await publisher.deploy_keyless(f"during{unique}", production, owner)
        new_prefix = f"during{unique}/0.0.2"
        assert new_prefix not in gateway.app.state.table.routes

        node.start()
        took = await gateway.wait_route(new_prefix, timeout=ROUTED_WITHIN)
        print(f"routed {took:.3f}s after NATS was back")  # noqa: T201
        after = await client.post(f"/{prefix}{PATH}", json=CHAT, headers=bearer(key))
        assert after.status_code == 200

    deploys = [e for e in await stream_events(node.url, ApiDeployed.TYPE) if e.subject == new_id]
    assert len(deploys) == 1  # reached the stream once: not lost, not duplicated
