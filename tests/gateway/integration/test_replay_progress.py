"""The gateway's replay progress on /metrics (what `make run` shows while the gateway starts):
`aigw_gateway_replay_target_sequence` is the event stream's last sequence when the gateway
started following it, `aigw_gateway_event_sequence` the last one it folded."""

import uuid

import pytest

from aigw.common.events import SubscriptionCreated
from aigw.common.messaging import STREAM_NAME
from aigw.gateway.settings import Settings
from tests.support.bus import connected
from tests.support.gateway import Events, deploy_event, metric, run_gateway
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

SEQUENCE = "aigw_gateway_event_sequence"
TARGET = "aigw_gateway_replay_target_sequence"


async def last_sequence() -> int:
    async with connected() as nc:
        info = await nc.jetstream().stream_info(STREAM_NAME)
        return int(info.state.last_seq)


def subscription(unique: str) -> SubscriptionCreated:
    return SubscriptionCreated(
        subscription_id=f"sub-{unique}",
        application_id=f"app-{unique}",
        api_id=f"api-{unique}",
        policy="Unlimited",
    )


async def test_the_gauges_count_the_replay_up_to_the_last_sequence_at_start(
    events: Events, gateway_settings: Settings, mock_provider: str
) -> None:
    unique = uuid.uuid4().hex[:8]
    await events.publish(
        deploy_event(events, f"api-{unique}", f"replay{unique}/1.0", mock_provider, unique),
        subscription(unique),
    )
    at_start = await last_sequence()

    async with run_gateway(gateway_settings) as gateway, gateway.client() as client:
        # caught up (run_gateway waits for it): every event up to the target is folded
        assert await metric(client, gateway.url, TARGET) == at_start
        assert await metric(client, gateway.url, SEQUENCE) >= at_start

        later = uuid.uuid4().hex[:8]
        await events.publish(subscription(later))
        published = await last_sequence()
        await eventually(
            lambda: metric(client, gateway.url, SEQUENCE),
            lambda folded: folded >= published,
            what="the live event folded",
        )
        # the target stays what the stream held at start: live events are not replay
        assert await metric(client, gateway.url, TARGET) == at_start
