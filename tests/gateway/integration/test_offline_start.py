"""A gateway restarted while NATS is down (issue 14): with GATEWAY_STATE_DIR it serves from the
snapshot of its routing table at once (readiness: degraded, naming the snapshot's sequence)
instead of answering 404 to everything, and once NATS is back it follows the stream from the
sequence after the snapshot and routes what changed meanwhile (a management write acknowledged
while NATS was down, kept in the publisher's outbox). A snapshot that was altered is refused:
the gateway then has no table until NATS is back and it has replayed the whole stream."""

import uuid
from pathlib import Path

import httpx
import pytest

from aigw.common.crypto import SecretBox
from aigw.common.messaging import STREAM_NAME
from tests.support.gateway import CHAT, PATH, Events, access, bearer, until_served
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsNode, on_node, publish_on, stream_info
from tests.support.publisher import API_PREFIX, running_publisher
from tests.support.stateful_gateway import StatefulGateway, api_with_key, readiness
from tests.support.tokens import TestSigner
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CALLS = 50


async def calls(client: httpx.AsyncClient, url: str, key: str, count: int = CALLS) -> list[int]:
    headers = bearer(key)
    return [(await client.post(url, json=CHAT, headers=headers)).status_code for _ in range(count)]


async def test_a_gateway_restarted_while_nats_is_down_serves_from_its_snapshot_and_catches_up(
    node: NatsNode,
    infra: Infra,
    secret_key: str,
    signer: TestSigner,
    mock_provider: str,
    tmp_path: Path,
) -> None:
    events = Events(node.url, SecretBox(secret_key))
    prefix, key = await api_with_key(node.url, infra, events, mock_provider)
    gateway = StatefulGateway(infra, secret_key, node, tmp_path)
    unique = uuid.uuid4().hex[:8]
    owner = signer.auth(f"owner-{unique}", ("publisher",))
    async with (
        httpx.AsyncClient(timeout=10) as client,
        running_publisher(
            on_node(infra, node.url), secret_key, signer, unique, dev_mode=True
        ) as publisher,
    ):
        with gateway.running():
            await until_served(client, f"{gateway.url}/{prefix}{PATH}", key)
        assert gateway.snapshot.exists()  # written at stop
        last = (await stream_info(node.url, infra, STREAM_NAME)).state.last_seq

        node.stop()
        with gateway.running():  # ready: NATS is down, the snapshot is served
            assert await readiness(client, gateway.url) == (
                200,
                {
                    "status": "DEGRADED",
                    "detail": f"degraded: serving from snapshot at sequence {last}",
                },
            )
            assert await calls(client, f"{gateway.url}/{prefix}{PATH}", key) == [200] * CALLS

            # a management write meanwhile: acknowledged, its event waits in the outbox
            production = f"{mock_provider}/production/{unique}"
            body = publisher.body(context=f"during{unique}", endpoints={"production": production})
            created = await publisher.client.post(f"{API_PREFIX}/apis", json=body, headers=owner)
            assert created.status_code == 201, created.text
            new_id = created.json()["id"]
            security = {"production": {"apiKey": "mock-provider-key"}}
            url = f"{API_PREFIX}/apis/{new_id}/backend-security"
            assert (await publisher.client.put(url, json=security, headers=owner)).is_success
            deploy = await publisher.client.post(
                f"{API_PREFIX}/apis/{new_id}/deploy", headers=owner
            )
            assert deploy.status_code == 201, deploy.text

            node.start()  # the gateway follows on from the sequence after and routes it
            new_key = f"new-{unique}"
            await publish_on(node.url, infra, *access(new_id, f"app-new-{unique}", new_key))
            new_url = f"{gateway.url}/during{unique}/0.0.2{PATH}"
            assert (await until_served(client, new_url, new_key)).status_code == 200
            await eventually(lambda: readiness(client, gateway.url), (200, {"status": "UP"}))
            assert await calls(client, f"{gateway.url}/{prefix}{PATH}", key, 5) == [200] * 5
        assert "routing table restored from" in gateway.log()
        assert f"following AIGW_EVENTS from sequence {last + 1}" in gateway.log()


async def test_an_altered_snapshot_is_refused_and_the_whole_stream_replayed(
    node: NatsNode, infra: Infra, secret_key: str, mock_provider: str, tmp_path: Path
) -> None:
    events = Events(node.url, SecretBox(secret_key))
    prefix, key = await api_with_key(node.url, infra, events, mock_provider)
    gateway = StatefulGateway(infra, secret_key, node, tmp_path)
    async with httpx.AsyncClient(timeout=10) as client:
        with gateway.running():
            await until_served(client, f"{gateway.url}/{prefix}{PATH}", key)
        data = bytearray(gateway.snapshot.read_bytes())
        data[len(data) // 2] ^= 0x20  # a byte of an event changed on disk
        gateway.snapshot.write_bytes(bytes(data))

        node.stop()
        gateway.start(wait_ready=False)
        try:
            await gateway.wait_listening()
            assert (await readiness(client, gateway.url))[0] == 503  # no table to serve from
            answer = await client.post(
                f"{gateway.url}/{prefix}{PATH}", json=CHAT, headers=bearer(key)
            )
            # nothing routed from the refused file: "starting", never a wrong 404
            assert answer.status_code == 503, answer.text
            assert "Retry-After" in answer.headers
            assert "refused: its HMAC does not verify" in gateway.log()

            node.start()  # the whole stream replayed
            await eventually(lambda: readiness(client, gateway.url), (200, {"status": "UP"}))
            assert await calls(client, f"{gateway.url}/{prefix}{PATH}", key, 5) == [200] * 5
            assert "following AIGW_EVENTS from sequence 1" in gateway.log()
        finally:
            gateway.stop()
