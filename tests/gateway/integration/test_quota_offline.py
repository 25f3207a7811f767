"""Quota sharing while NATS is down (issue 14): each gateway process counts alone (its peers
stop counting as live three seconds after their last message, so it admits against its own
charges and the peers' last reported counts), and once NATS is back they exchange counts
again: a process then counts what its peer admitted during the outage."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aigw.common.crypto import SecretBox
from aigw.common.events import PolicyUpdated, QuotaLimit
from tests.support.gateway import CHAT, PATH, Events, bearer, metric, until_served
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsNode
from tests.support.stateful_gateway import StatefulGateway, api_with_key
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

LIMIT = 200  # requests a day: room for the probes
DURING = 8  # calls on a while NATS is down
IN_FLIGHT = 1  # a count published as NATS went away may be lost
PEERS = "aigw_gateway_quota_peers"
REMAINING = "x-ratelimit-remaining-requests"


@pytest.fixture
def two(infra: Infra, secret_key: str, node: NatsNode, tmp_path: Path) -> Iterator[list[str]]:
    gateways = [
        StatefulGateway(infra, secret_key, node, tmp_path / name, GATEWAY_NAME=name)
        for name in ("qa", "qb")
    ]
    for gateway in gateways:
        gateway.workdir.mkdir()
        gateway.start()
    try:
        yield [gateway.url for gateway in gateways]
    finally:
        for gateway in gateways:
            gateway.stop()


class Calls:
    """Calls on the two processes, counted here, each answered with what is left."""

    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str], key: str) -> None:
        self.client, self.urls, self.key = client, urls, key
        self.made = dict.fromkeys(urls, 0)

    async def on(self, name: str) -> int:
        """One call on `name` (charged); what the answer says is left of the requests."""
        answer = await self.client.post(self.urls[name], json=CHAT, headers=bearer(self.key))
        assert answer.status_code == 200, answer.text
        self.made[name] += 1
        return int(answer.headers[REMAINING])

    async def shared(self, name: str) -> bool:
        """A call on `name` that counts every call made on both."""
        return await self.on(name) == LIMIT - sum(self.made.values())


async def test_quota_is_counted_locally_while_nats_is_down_and_shared_again_after(
    node: NatsNode, infra: Infra, secret_key: str, mock_provider: str, two: list[str]
) -> None:
    plan = PolicyUpdated(
        name=f"q-{uuid.uuid4().hex[:8]}", limits=[QuotaLimit(unit="day", requests=LIMIT)]
    )
    events = Events(node.url, SecretBox(secret_key))
    prefix, key = await api_with_key(node.url, infra, events, mock_provider, plan)
    async with httpx.AsyncClient(timeout=10) as client:
        calls = Calls(
            client, {"a": f"{two[0]}/{prefix}{PATH}", "b": f"{two[1]}/{prefix}{PATH}"}, key
        )
        for url in calls.urls.values():
            await until_served(client, url, key)
        calls.made = {"a": 1, "b": 1}
        for url in two:
            await eventually(lambda url=url: metric(client, url, PEERS), 1.0)
        for name in ("a", "b"):  # each knows the other's calls
            await eventually(lambda name=name: calls.shared(name), interval=0.05)

        node.stop()
        for url in two:  # alone: each counts only its own calls from now on
            await eventually(lambda url=url: metric(client, url, PEERS), 0.0)
        # (a call made just before NATS went may not have reached the other: IN_FLIGHT)
        left_on_a = [await calls.on("a") for _ in range(DURING)]
        assert left_on_a == list(range(left_on_a[0], left_on_a[0] - DURING, -1))
        left_on_b = await calls.on("b")
        unknown_to_b = left_on_b - (LIMIT - sum(calls.made.values()))
        assert DURING <= unknown_to_b <= DURING + IN_FLIGHT  # a's outage calls are not counted

        node.start()
        for url in two:
            await eventually(lambda url=url: metric(client, url, PEERS), 1.0)
        # each learns the other's outage calls: every call since counts those too
        for name in ("a", "b"):
            await eventually(lambda name=name: calls.shared(name), interval=0.05)
