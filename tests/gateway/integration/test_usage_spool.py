"""No usage record is lost on restart, none counted twice (issue 14). With GATEWAY_STATE_DIR the
gateway seals its usage records into batches (stable record and batch ids) and spools them to
disk before sending them:

- calls made while NATS is down, the gateway restarted while it is still down, NATS back: every
  record reaches the usage stream exactly once (before: all 50 of 50 lost);
- a gateway killed (kill -9) mid-traffic loses at most the records it had not sealed yet: the
  calls since its last tick (GATEWAY_USAGE_BATCH_INTERVAL; before: up to a batch in memory),
  the number printed;
- a batch sent again (its acknowledgement lost) carries the same batch id, JetStream's message
  id: it is stored once (and its records keep their ids, which the consumers store under).
"""

import asyncio
import uuid
from pathlib import Path

import httpx
import nats
import pytest

from aigw.common.crypto import SecretBox
from aigw.gateway.metering.recorder import UsageRecorder
from aigw.gateway.metering.spool import Batch, UsageSpool
from tests.support.gateway import CHAT, PATH, Events, bearer, metric, until_served
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsNode
from tests.support.stateful_gateway import StatefulGateway, api_with_key, readiness, usage_records
from tests.support.usage import call_record
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

DOWN_CALLS = 50
BATCH_SIZE = 200  # GATEWAY_USAGE_BATCH_SIZE's default
CLIENTS = 4  # concurrent callers in the kill -9 test
# calls answered while a full batch is being sealed and written (a few ms at a few hundred
# calls a second; room for a slow disk)
WHILE_WRITING = 50
PENDING = "aigw_gateway_usage_records_pending"


async def call(client: httpx.AsyncClient, url: str, key: str, request_id: str) -> int:
    headers = {**bearer(key), "x-request-id": request_id}
    return (await client.post(url, json=CHAT, headers=headers)).status_code


async def all_sent(client: httpx.AsyncClient, gateway: StatefulGateway) -> None:
    await eventually(lambda: metric(client, gateway.url, PENDING), 0.0, timeout=20)


async def gateway_for_an_api(
    node: NatsNode, infra: Infra, secret_key: str, mock: str, workdir: Path
) -> tuple[StatefulGateway, str, str]:
    """The restart tests' set-up: an API with a key on `node` and a gateway (not started) to
    serve it: (the gateway, the API's chat URL on it, the key)."""
    events = Events(node.url, SecretBox(secret_key))
    prefix, key = await api_with_key(node.url, infra, events, mock)
    gateway = StatefulGateway(infra, secret_key, node, workdir)
    return gateway, f"{gateway.url}/{prefix}{PATH}", key


async def recorded(node: NatsNode, request_ids: set[str]) -> list[str]:
    """The request ids of the stored records among `request_ids`, once per record."""
    _, records = await usage_records(node.url)
    return [r.request_id for r in records if r.request_id in request_ids]


async def test_records_of_calls_made_while_nats_is_down_survive_a_restart_and_arrive_once(
    node: NatsNode, infra: Infra, secret_key: str, mock_provider: str, tmp_path: Path
) -> None:
    gateway, url, key = await gateway_for_an_api(node, infra, secret_key, mock_provider, tmp_path)
    unique = uuid.uuid4().hex[:8]
    before = [f"before-{unique}-{n}" for n in range(DOWN_CALLS)]
    after = [f"after-{unique}-{n}" for n in range(10)]
    async with httpx.AsyncClient(timeout=10) as client:
        with gateway.running():
            await until_served(client, url, key)
            await all_sent(client, gateway)  # that call's record: in the stream already
            node.stop()
            assert [await call(client, url, key, rid) for rid in before] == [200] * DOWN_CALLS
        # stopped while NATS is down: the records are in the spool, not lost

        with gateway.running():  # restarted while NATS is still down
            assert (await readiness(client, gateway.url))[1]["status"] == "DEGRADED"
            assert await metric(client, gateway.url, PENDING) == DOWN_CALLS
            assert [await call(client, url, key, rid) for rid in after] == [200] * 10

            node.start()
            await all_sent(client, gateway)
            ids = await recorded(node, {*before, *after})
            assert sorted(ids) == sorted([*before, *after])  # each one, once
            spools = list(gateway.state_dir.glob("usage-spool-*.jsonl"))
            assert [p.stat().st_size for p in spools] == [0]  # acknowledged: forgotten


async def test_a_gateway_killed_mid_traffic_loses_at_most_its_unsealed_records(
    node: NatsNode, infra: Infra, secret_key: str, mock_provider: str, tmp_path: Path
) -> None:
    gateway, url, key = await gateway_for_an_api(node, infra, secret_key, mock_provider, tmp_path)
    unique = uuid.uuid4().hex[:8]
    answered: set[str] = set()
    async with httpx.AsyncClient(timeout=10) as client:
        gateway.start()
        await until_served(client, url, key)

        async def caller(number: int) -> None:
            for n in range(100_000):
                request_id = f"kill-{unique}-{number}-{n}"
                try:
                    if await call(client, url, key, request_id) == 200:
                        answered.add(request_id)
                except httpx.HTTPError:
                    return  # the gateway is gone

        callers = [asyncio.create_task(caller(n)) for n in range(CLIENTS)]
        await eventually(lambda: len(answered), lambda n: n >= 1_000, timeout=60, interval=0.01)
        gateway.kill()  # mid-traffic: nothing written on the way out
        await asyncio.gather(*callers)

        gateway.start()  # sends what the killed one spooled
        await all_sent(client, gateway)
        ids = await recorded(node, answered)
        gateway.stop()
    lost = len(answered) - len(set(ids))
    print(f"kill -9 after {len(answered)} answered calls: {lost} usage records lost")  # noqa: T201
    assert len(ids) == len(set(ids))  # none twice
    assert lost <= BATCH_SIZE + WHILE_WRITING  # at most the calls since the last tick


async def test_a_batch_sent_again_is_stored_once(
    node: NatsNode, infra: Infra, tmp_path: Path
) -> None:
    nc = await nats.connect(node.url, **infra.nats_options("gateway"))
    try:
        first = UsageRecorder(lambda: nc, infra.signer("gateway"), "gw", spool=UsageSpool(tmp_path))
        first.start()
        for n in range(5):
            first.add(call_record(f"retried-{n}", at=0.0, api_id="api-retried"))
        await first.flush()
        [batch] = (await usage_records(node.url))[0]
        await first.stop()

        # the acknowledgement lost (a kill -9 between JetStream's ack and the spool's line):
        # the batch is still in the spool when the next process starts
        spool = UsageSpool(tmp_path)
        spool.open()
        spool.append([Batch(batch.batch_id, tuple(batch.records))])  # as it was sealed
        spool.close()

        second = UsageRecorder(
            lambda: nc, infra.signer("gateway"), "gw", spool=UsageSpool(tmp_path)
        )
        second.start()
        assert [b.batch_id for b in second.batches] == [batch.batch_id]
        await second.flush()
        assert second.published == 1  # sent again...
        await second.stop()
        batches, records = await usage_records(node.url)
        assert [b.batch_id for b in batches] == [batch.batch_id]  # ...and stored once
        assert [r.record_id for r in records] == [r.record_id for r in batch.records]
    finally:
        await nc.close()
