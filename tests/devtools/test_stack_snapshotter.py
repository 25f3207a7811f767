"""The snapshotter as `make run` starts it (aigw.devtools.stack): its own NATS identity from
the stack's credentials, ready once caught up with the stream, and the snapshot it writes is
one a fresh gateway of the stack starts from. On a NATS of the stack's own: a snapshot in the
session NATS's bucket would change how every later gateway of the session starts."""

from pathlib import Path

import httpx
import nats
import pytest

from aigw.common.crypto import SecretBox
from aigw.common.messaging import STREAM_NAME
from aigw.devtools.stack import Ports, Stack, StackConfig
from aigw.gateway.routing.shared_snapshot import SharedSnapshots
from aigw.gateway.routing.snapshot import Snapshot
from tests.support.gateway import PATH, Events, until_served
from tests.support.infra import Infra
from tests.support.nats_nodes import stream_info
from tests.support.stateful_gateway import api_with_key
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def shared_snapshot(stack: Stack, infra: Infra) -> Snapshot | None:
    """The shared snapshot as a gateway reads it (with the gateway's NATS identity)."""
    nc = await nats.connect(stack.nats_url, **infra.nats_options("gateway"))
    try:
        return await SharedSnapshots(infra.verifier()).load(nc)
    finally:
        await nc.close()


async def test_a_fresh_gateway_of_the_stack_starts_from_its_snapshotter_s_snapshot(
    infra: Infra, secret_key: str, tmp_path: Path
) -> None:
    config = StackConfig(
        data_dir=tmp_path / "stack",
        secret_key=secret_key,
        admin_password="admin",
        ports=Ports.free(),
        credentials_dir=infra.credentials,  # the session's identities sign the test's events
        persist_store=False,
        extra_env={"SNAPSHOTTER_INTERVAL": "0.2"},
    )
    stack = Stack(config)
    # what the snapshotter and a gateway need: NATS and the provider (no store, no services)
    stack.processes = [
        p for p in stack.processes if p.name in ("nats", "mock-provider", "snapshotter")
    ]
    with stack:  # ready: caught up with the (empty) stream
        events = Events(stack.nats_url, SecretBox(secret_key))
        prefix, key = await api_with_key(stack.nats_url, infra, events, stack.url("mock_provider"))
        last = (await stream_info(stack.nats_url, infra, STREAM_NAME)).state.last_seq
        snapshot = await eventually(
            lambda: shared_snapshot(stack, infra),
            lambda found: found is not None and found.sequence >= last,
            timeout=20,
            what=f"the stack's snapshotter's snapshot at sequence {last}",
        )
        assert snapshot is not None
        fresh = {"GATEWAY_STATE_DIR": str(tmp_path / "fresh"), "AIGW_LOG_LEVEL": "INFO"}
        with stack.another_gateway("fresh-gateway", **fresh) as gateway:
            async with httpx.AsyncClient(timeout=10) as client:
                url = f"http://127.0.0.1:{gateway.port}/{prefix}{PATH}"
                assert (await until_served(client, url, key)).status_code == 200
    said = (stack.logs / "fresh-gateway.log").read_text()
    assert (
        f"routing table restored from the shared snapshot at sequence {snapshot.sequence}" in said
    )
    assert "replaying the whole stream" not in said
