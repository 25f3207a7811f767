"""Stream limits keep what the gateway's fold needs: usage, the bulk of the traffic, lives in
its own stream with a maximum age, and a gateway started after it aged out builds the same
routing table from the management events alone."""

from datetime import timedelta

import pytest

from aigw.common.events import UsageRecord, UsageRecorded
from aigw.common.messaging import DEFAULT_USAGE_MAX_AGE, STREAM_NAME, USAGE_STREAM_NAME
from aigw.devtools.processes import free_port
from tests.support.bus import connected, emitted, publish
from tests.support.gateway import CHAT, PATH, bearer, run_gateway

pytestmark = pytest.mark.integration


async def test_usage_is_kept_for_a_limited_time_and_events_for_good(infra):
    async with connected() as nc:
        js = nc.jetstream()
        usage = (await js.stream_info(USAGE_STREAM_NAME)).config
        events = (await js.stream_info(STREAM_NAME)).config
    assert timedelta(seconds=usage.max_age or 0) == DEFAULT_USAGE_MAX_AGE
    assert usage.subjects == ["aigw.usage.>"]
    assert not events.max_age
    assert "aigw.usage.recorded" not in (events.subjects or [])


async def test_a_gateway_started_after_usage_aged_out_builds_the_same_table(
    gateway, deployed_api, gateway_settings
):
    d = deployed_api
    events_before = await _messages(STREAM_NAME)
    async with gateway.client() as client:
        for _ in range(3):
            answer = await client.post(
                f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key)
            )
            assert answer.status_code == 200
    record = UsageRecord.model_validate(
        {
            "record_id": "r1",
            "time": "2026-01-01T00:00:00Z",
            "api_id": d.api_id,
            "application_id": d.app_id,
            "key_type": "PRODUCTION",
            "status": 200,
        }
    )
    await publish(emitted(UsageRecorded(batch_id="b1", gateway="gw-old", records=[record])))
    await gateway.app.recorder.flush()
    # the calls' usage (and the batch above) went to the usage stream, not the replayed one
    assert await _messages(STREAM_NAME) == events_before
    async with connected() as nc:
        js = nc.jetstream()
        assert (await js.stream_info(USAGE_STREAM_NAME)).state.messages > 0
        await js.purge_stream(USAGE_STREAM_NAME)  # what max_age does to old usage
    before = gateway.app.state.table.snapshot()

    settings = gateway_settings.model_copy(update={"port": free_port()})
    async with run_gateway(settings) as fresh:
        assert fresh.app.state.table.snapshot() == before
        assert fresh.app.follower.last_sequence == events_before  # it read nothing else
        async with fresh.client() as client:
            answer = await client.post(
                f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key)
            )
        assert answer.status_code == 200


async def _messages(stream: str) -> int:
    async with connected() as nc:
        return (await nc.jetstream().stream_info(stream)).state.last_seq
