"""The shared routing table snapshot (issue 14), on a NATS node of the test's own with the
session's authorization: the snapshotter process folds the stream and writes its signed
snapshot to the AIGW_SNAPSHOTS object store; a fresh gateway (no state directory) starts from
it, replays only the newer events and routes everything; no other identity may write the
bucket; a snapshot signed by a gateway (a stolen connection, a forged signature) is refused
and the gateway replays the whole stream instead."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient

from aigw.common.crypto import SecretBox
from aigw.common.event_trust import EventSigner
from aigw.common.identity import SNAPSHOTTER
from aigw.common.messaging import SNAPSHOT_STREAM_NAME, STREAM_NAME
from aigw.devtools.processes import ManagedProcess, free_port
from aigw.gateway.routing.shared_snapshot import META_SUBJECT, SharedSnapshots
from aigw.gateway.routing.snapshot import Snapshot
from tests.support.gateway import PATH, Events, gateway_command, until_served
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsNode, stream_info
from tests.support.stateful_gateway import api_with_key
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def snapshotter_process(infra: Infra, node: NatsNode, log_path: Path) -> ManagedProcess:
    port = free_port()
    return ManagedProcess(
        "snapshotter",
        [sys.executable, "-m", "aigw.gateway.snapshotter"],
        port=port,
        env={
            **infra.bus_env(SNAPSHOTTER),
            "NATS_URL": node.url,
            "SNAPSHOTTER_PORT": str(port),
            "SNAPSHOTTER_INTERVAL": "0.5",
        },
        ready_url=f"http://127.0.0.1:{port}/health/ready",
        log_path=log_path,
    )


@asynccontextmanager
async def connected(node: NatsNode, infra: Infra, identity: str) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(node.url, **infra.nats_options(identity))
    try:
        yield nc
    finally:
        await nc.close()


async def shared_snapshot(node: NatsNode, infra: Infra) -> Snapshot | None:
    """The shared snapshot as a gateway reads it (with the gateway's NATS identity)."""
    async with connected(node, infra, "gateway") as nc:
        return await SharedSnapshots(infra.verifier()).load(nc)


async def snapshot_at(node: NatsNode, infra: Infra, sequence: int) -> Snapshot:
    return await eventually(
        lambda: shared_snapshot(node, infra),
        lambda snapshot: snapshot is not None and snapshot.sequence >= sequence,
        timeout=20,
        what=f"a shared snapshot at sequence {sequence}",
    )


async def last_sequence(node: NatsNode, infra: Infra) -> int:
    return int((await stream_info(node.url, infra, STREAM_NAME)).state.last_seq)


async def test_a_fresh_gateway_starts_from_the_shared_snapshot_and_routes_what_came_after(
    node: NatsNode, infra: Infra, secret_key: str, mock_provider: str, tmp_path: Path
) -> None:
    events = Events(node.url, SecretBox(secret_key))
    before, before_key = await api_with_key(node.url, infra, events, mock_provider)
    snapshotter = snapshotter_process(infra, node, tmp_path / "snapshotter.log")
    with snapshotter.running():
        snapshot = await snapshot_at(node, infra, await last_sequence(node, infra))
        after, after_key = await api_with_key(node.url, infra, events, mock_provider)
        newer = await snapshot_at(node, infra, await last_sequence(node, infra))
    assert newer.sequence > snapshot.sequence  # it keeps the snapshot up to date
    assert len(newer.events) > len(snapshot.events)

    # one more change the snapshot has not seen: the gateway must replay it from the stream
    later, later_key = await api_with_key(node.url, infra, events, mock_provider)
    log = tmp_path / "gateway.log"
    gateway = gateway_command(infra, secret_key, log, NATS_URL=node.url, AIGW_LOG_LEVEL="INFO")
    with gateway.running():
        url = f"http://127.0.0.1:{gateway.port}"
        async with httpx.AsyncClient(timeout=10) as client:
            for prefix, key in ((before, before_key), (after, after_key), (later, later_key)):
                response = await until_served(client, f"{url}/{prefix}{PATH}", key)
                assert response.status_code == 200, response.text
    said = log.read_text()
    assert f"routing table restored from the shared snapshot at sequence {newer.sequence}" in said
    assert "replaying the whole stream" not in said


@pytest.mark.parametrize("identity", ["gateway", "publisher", "keymanager", "devportal"])
async def test_only_the_snapshotter_may_write_the_snapshot_bucket(
    node: NatsNode, infra: Infra, identity: str
) -> None:
    async with connected(node, infra, identity) as nc:
        with pytest.raises((nats.errors.Error, TimeoutError)):
            await nc.jetstream().publish(META_SUBJECT, b"{}", timeout=1)
    info = await stream_info(node.url, infra, SNAPSHOT_STREAM_NAME)
    assert info.state.messages == 0


async def test_a_snapshot_signed_by_a_gateway_is_refused_and_the_stream_replayed(
    node: NatsNode, infra: Infra, secret_key: str, mock_provider: str, tmp_path: Path
) -> None:
    """The worst a stolen snapshotter connection with a gateway's key can try: an empty table
    claimed at the stream's last sequence (every API would answer 404 if it were believed)."""
    events = Events(node.url, SecretBox(secret_key))
    prefix, key = await api_with_key(node.url, infra, events, mock_provider)
    created = str((await stream_info(node.url, infra, STREAM_NAME)).created)
    forged = Snapshot(await last_sequence(node, infra), created, [])
    forger = SharedSnapshots(infra.verifier(), EventSigner(infra.identity("gateway")))
    async with connected(node, infra, SNAPSHOTTER) as nc:  # a stolen connection
        await forger.write(nc, forged)

    log = tmp_path / "gateway.log"
    gateway = gateway_command(infra, secret_key, log, NATS_URL=node.url, AIGW_LOG_LEVEL="INFO")
    with gateway.running():
        async with httpx.AsyncClient(timeout=10) as client:
            url = f"http://127.0.0.1:{gateway.port}/{prefix}{PATH}"
            assert (await until_served(client, url, key)).status_code == 200
    said = log.read_text()
    assert "shared routing table snapshot refused: its signature is refused" in said
    assert "restored from the shared snapshot" not in said
