"""A 3-node NATS JetStream cluster (issue 14): the streams with 3 replicas
(AIGW_STREAM_REPLICAS=3), publisher and the gateway given all three URLs. The node leading the
events stream is killed (`kill -9`) while the publisher deploys APIs and the gateway serves:
no acknowledged change is lost (each reaches the gateway's table and the stream exactly once),
no call fails (the gateway serves from its table: the bound is 0), and the node, restarted,
rejoins and catches up with the stream."""

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from nats.js.api import StreamInfo

from aigw.common.crypto import SecretBox
from aigw.common.events import ApiDeployed
from aigw.common.messaging import STREAM_NAME
from aigw.devtools import nats_auth
from aigw.gateway.settings import Settings
from tests.support.events import stream_events
from tests.support.gateway import CHAT, PATH, Events, bearer
from tests.support.infra import Infra
from tests.support.nats_nodes import (
    NatsCluster,
    gateway_and_publisher,
    jetstream_ready,
    nats_cluster,
    stream_info,
)
from tests.support.stateful_gateway import api_with_key
from tests.support.tokens import TestSigner
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

WRITES = 10
KILL_AFTER = 3  # writes acknowledged before the leader is killed
FAILED_CALLS_BOUND = 0


@pytest.fixture
def nodes(infra: Infra, tmp_path: Path) -> Iterator[NatsCluster]:
    with nats_cluster(infra, tmp_path) as running:
        yield running


@pytest.fixture
async def cluster(nodes: NatsCluster, infra: Infra) -> NatsCluster:
    await eventually(lambda: jetstream_ready(nodes.url, infra), timeout=20)
    await eventually(
        lambda: nats_auth.provision_streams(nodes.url, infra.credentials, replicas=3),
        lambda _: True,
        timeout=20,
        ignoring=(Exception,),
    )
    await eventually(lambda: stream_info(nodes.url, infra, STREAM_NAME), _all_current)
    return nodes


def _all_current(info: StreamInfo) -> bool:
    """A leader and two followers that hold every message."""
    cluster = info.cluster
    peers = (cluster.replicas or []) if cluster is not None else []
    return (
        cluster is not None
        and cluster.leader is not None
        and len(peers) == 2
        and all(peer.current and not peer.lag for peer in peers)
    )


class Traffic:
    """Calls the gateway back to back until stopped, counting answers by status."""

    def __init__(self, client: httpx.AsyncClient, url: str, key: str) -> None:
        self.client, self.url, self.key = client, url, key
        self.statuses: Counter[int | str] = Counter()
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                response = await self.client.post(self.url, json=CHAT, headers=bearer(self.key))
                self.statuses[response.status_code] += 1
            except httpx.HTTPError as exc:
                self.statuses[type(exc).__name__] += 1

    def stop(self) -> None:
        self._stop.set()

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


async def test_killing_the_stream_leader_loses_no_change_and_fails_no_call(
    cluster: NatsCluster,
    infra: Infra,
    secret_key: str,
    signer: TestSigner,
    gateway_settings: Settings,
    mock_provider: str,
) -> None:
    unique = uuid.uuid4().hex[:8]
    events = Events(cluster.url, SecretBox(secret_key))
    prefix, key = await api_with_key(cluster.url, infra, events, mock_provider, stem="cl")
    owner = signer.auth(f"owner-{unique}", ("publisher",))
    acknowledged: list[str] = []
    serving = gateway_and_publisher(
        cluster.url, infra, secret_key, signer, gateway_settings, unique, key
    )
    async with serving as (gateway, publisher, client):
        traffic = Traffic(client, f"/{prefix}{PATH}", key)
        calls = asyncio.create_task(traffic.run())
        try:
            for n in range(WRITES):
                if n == KILL_AFTER:
                    leader = (await stream_info(cluster.url, infra, STREAM_NAME)).cluster
                    assert leader is not None
                    assert leader.leader is not None
                    killed = cluster.node(leader.leader)
                    killed.kill()
                    killed_at = asyncio.get_running_loop().time()
                context = f"{publisher.name.lower()}-{n}"
                production = f"{mock_provider}/p/{context}"
                acknowledged.append(await publisher.deploy_keyless(context, production, owner))

            # every acknowledged change reaches the gateway (through the outbox if need be)
            def routed() -> set[str]:
                return {r.api_id for r in gateway.app.state.table.routes.values()}

            await eventually(routed, lambda ids: set(acknowledged) <= ids, timeout=30)
            took = asyncio.get_running_loop().time() - killed_at
            print(f"{WRITES - KILL_AFTER} writes after the kill routed within {took:.2f}s")  # noqa: T201
        finally:
            traffic.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await calls
        print(f"calls during the failover: {dict(traffic.statuses)}")  # noqa: T201
        assert traffic.statuses[200] > 0
        assert traffic.failed <= FAILED_CALLS_BOUND, traffic.statuses

    killed.start()  # rejoins: the cluster is whole again, and its copy holds every message
    info = await eventually(
        lambda: stream_info(cluster.url, infra, STREAM_NAME), _all_current, timeout=30
    )
    names = {peer.name for peer in (info.cluster.replicas or [])} if info.cluster else set()
    assert killed.name in names | {info.cluster.leader if info.cluster else None}
    deployed = Counter(e.subject for e in await stream_events(cluster.url, ApiDeployed.TYPE))
    assert all(deployed[api] == 1 for api in acknowledged), deployed
