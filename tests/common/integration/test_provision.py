"""Provisioning and stream replicas (AIGW_STREAM_REPLICAS): a new stream gets the replicas
asked for, an existing one is moved up when asked for more, and is never moved down (a start
with the default no longer forces a 3-replica stream back to 1): that is logged instead."""

import logging
from collections.abc import Iterator

import pytest
from nats.js.api import StreamInfo

from aigw.common.messaging import STREAM_NAME, STREAMS
from aigw.devtools import nats_auth
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsCluster, jetstream_ready, nats_cluster, stream_info
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def nodes(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    with nats_cluster(infra, tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture
async def cluster(nodes: NatsCluster, infra: Infra) -> NatsCluster:
    await eventually(lambda: jetstream_ready(nodes.url, infra), timeout=20)
    return nodes


async def _replicas(cluster: NatsCluster, infra: Infra) -> dict[str, int | None]:
    return {s: (await stream_info(cluster.url, infra, s)).config.num_replicas for s in STREAMS}


async def test_replicas_are_set_raised_and_never_silently_lowered(
    cluster: NatsCluster, infra: Infra, caplog: pytest.LogCaptureFixture
) -> None:
    await eventually(
        lambda: nats_auth.provision_streams(cluster.url, infra.credentials),
        lambda _: True,
        timeout=20,
        ignoring=(Exception,),
    )  # the default, on a cluster whose JetStream may still settle
    assert set((await _replicas(cluster, infra)).values()) <= {1, None}

    await nats_auth.provision_streams(cluster.url, infra.credentials, replicas=3)
    assert await _replicas(cluster, infra) == dict.fromkeys(STREAMS, 3)

    with caplog.at_level(logging.WARNING, logger="aigw.common.messaging"):
        await nats_auth.provision_streams(cluster.url, infra.credentials)  # the default, 1
    assert await _replicas(cluster, infra) == dict.fromkeys(STREAMS, 3)
    assert any(
        f"stream {STREAM_NAME} keeps its 3 replicas" in record.getMessage()
        for record in caplog.records
    )

    def followers(info: StreamInfo) -> list[str]:
        replicas = info.cluster.replicas if info.cluster is not None else None
        return sorted(peer.name for peer in replicas or [] if peer.current)

    # a leader and two current followers, once the new peers have caught up
    info = await eventually(
        lambda: stream_info(cluster.url, infra, STREAM_NAME), lambda i: len(followers(i)) == 2
    )
    assert info.cluster is not None
    assert info.cluster.leader not in followers(info)


async def test_replicas_out_of_range_are_refused(cluster: NatsCluster, infra: Infra) -> None:
    with pytest.raises(ValueError, match="replicas must be 1 to 5"):
        await nats_auth.provision_streams(cluster.url, infra.credentials, replicas=0)
