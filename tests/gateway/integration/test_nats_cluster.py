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

from aigw.common.crypto import SecretBox, sha256_hex
from aigw.common.events import ApiDeployed
from aigw.common.messaging import STREAM_NAME
from aigw.devtools import nats_auth
from aigw.gateway.settings import Settings
from tests.support.events import stream_events
from tests.support.gateway import CHAT, PATH, Events, access, bearer, deploy_event, run_gateway
from tests.support.infra import Infra
from tests.support.nats_nodes import (
    NatsCluster,
    jetstream_ready,
    nats_cluster,
    on_node,
    publish_on,
    stream_info,
)
from tests.support.publisher import API_PREFIX, Publisher, running_publisher
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


async def _deploy_new_api(publisher: Publisher, owner: dict[str, str], mock: str, n: int) -> str:
    """Create an API and deploy it; the id once both are acknowledged."""
    context = f"{publisher.name.lower()}-{n}"
    body = publisher.body(context=context, endpoints={"production": f"{mock}/p/{context}"})
    http = publisher.client
    created = await http.post(f"{API_PREFIX}/apis", json=body, headers=owner)
    assert created.status_code == 201, created.text
    api_id: str = created.json()["id"]
    keyless = {"production": None}
    url = f"{API_PREFIX}/apis/{api_id}"
    assert (await http.put(f"{url}/backend-security", json=keyless, headers=owner)).is_success
    deployed = await http.post(f"{url}/deploy", headers=owner)
    assert deployed.status_code == 201, deployed.text
    return api_id


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
    api_id, app_id, prefix, key = f"api-{unique}", f"app-{unique}", f"cl{unique}/1.0", unique
    await publish_on(
        cluster.url,
        infra,
        deploy_event(events, api_id, prefix, mock_provider, unique),
        *access(api_id, app_id, key),
    )
    settings = gateway_settings.model_copy(update={"nats_url": cluster.url})
    owner = signer.auth(f"owner-{unique}", ("publisher",))
    here = on_node(infra, cluster.url)
    acknowledged: list[str] = []
    async with (
        run_gateway(settings) as gateway,
        running_publisher(here, secret_key, signer, unique, dev_mode=True) as publisher,
        gateway.client() as client,
    ):
        await gateway.wait_until(lambda: sha256_hex(key) in gateway.app.state.table.keys)
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
                acknowledged.append(await _deploy_new_api(publisher, owner, mock_provider, n))

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
