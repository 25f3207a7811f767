"""Test keys (the portal's "Get Test Key") are held to the gateway's test-key plan, counted per
user and API: never to no plan at all, and never to more quota for more keys."""

import asyncio
import json
import time
import uuid

import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import KeyIssued, PolicyUpdated, QuotaLimit, SubscriptionCreated
from tests.support.gateway import (
    CHAT,
    PATH,
    Deployed,
    Events,
    RunningGateway,
    bearer,
    deploy_with_keys,
    run_gateway,
)

pytestmark = pytest.mark.integration


async def issue_test_keys(
    events: Events, gateway: RunningGateway, d: Deployed, user: str, count: int
) -> list[str]:
    """`count` test keys of `user` for the deployed API, as devportal has keymanager issue them
    (application id `testkey:<user>`, the API bound)."""
    keys = [f"test-{user}-{n}-{uuid.uuid4().hex[:6]}" for n in range(count)]
    await events.publish(
        *(
            KeyIssued(
                key_id=f"kt-{key}",
                key_hash=sha256_hex(key),
                application_id=f"testkey:{user}-{d.unique}",
                key_type="PRODUCTION",
                api_id=d.api_id,
            )
            for key in keys
        )
    )
    table = gateway.app.state.table
    await gateway.wait_until(lambda: all(sha256_hex(k) in table.keys for k in keys))
    return keys


async def clear_of_minute_end(margin: float = 8.0) -> None:
    """Start a burst early enough that it ends inside one minute window (the plan resets at
    every full minute)."""
    into = time.time() % 60
    if into > 60 - margin:
        await asyncio.sleep(60 - into + 0.05)  # the wall clock is the condition: no state to poll


async def offer_only_trial(events: Events, gateway: RunningGateway, d: Deployed) -> None:
    """The API's one subscription is on a one-call-a-day Trial plan."""
    trial = f"Trial-{d.unique}"
    await events.publish(
        PolicyUpdated(name=trial, limits=[QuotaLimit(unit="day", requests=1)]),
        SubscriptionCreated(
            subscription_id=f"sub-trial-{d.unique}",
            application_id=f"trial-app-{d.unique}",
            api_id=d.api_id,
            policy=trial,
        ),
    )
    await gateway.wait_until(lambda: trial in gateway.app.state.table.plans)


async def test_a_test_key_is_held_to_the_test_key_plan(gateway, deployed_api, events):
    d = deployed_api
    await offer_only_trial(events, gateway, d)
    [key] = await issue_test_keys(events, gateway, d, "mallory", 1)
    await clear_of_minute_end()
    async with gateway.client() as client:
        answers = [
            await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(key))
            for _ in range(11)
        ]
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    first, refused = answers[0], answers[10]
    assert first.headers["x-ratelimit-limit-requests"] == "10"
    assert first.headers["x-ratelimit-remaining-requests"] == "9"
    assert first.headers["x-ratelimit-limit-tokens"] == "10000"
    assert refused.json()["error"]["code"] == "quota_exceeded"
    assert "TestKey" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_test_keys_of_one_user_share_one_quota(gateway, deployed_api, events):
    d = deployed_api
    keys = await issue_test_keys(events, gateway, d, "mallory", 3)
    [other] = await issue_test_keys(events, gateway, d, "trudy", 1)
    await clear_of_minute_end()
    async with gateway.client() as client:

        async def call(key: str) -> int:
            answer = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(key))
            return answer.status_code

        statuses = [await call(keys[n % 3]) for n in range(12)]
        others = await call(other)
    assert statuses == [200] * 10 + [429] * 2  # three keys, one user: ten calls, not thirty
    assert others == 200  # another user's test key has its own quota


async def test_test_key_tokens_are_reserved_and_limited(gateway, deployed_api, events):
    d = deployed_api
    [key] = await issue_test_keys(events, gateway, d, "mallory", 1)
    raw = json.dumps({**CHAT, "max_tokens": 6000}).encode()
    headers = {**bearer(key), "content-type": "application/json", "x-mock-latency-ms": "300"}
    await clear_of_minute_end()
    async with gateway.client() as client:
        answers = await asyncio.gather(
            *(client.post(f"/{d.prefix}{PATH}", content=raw, headers=headers) for _ in range(4))
        )
    # the second reservation crosses the 10k tokens a minute, the later ones are refused
    assert sorted(a.status_code for a in answers) == [200, 200, 429, 429]
    refused = next(a for a in answers if a.status_code == 429)
    assert "tokens" in refused.json()["error"]["message"]


async def test_the_test_key_plan_is_a_gateway_setting(gateway_settings, events, mock_provider):
    settings = gateway_settings.model_copy(
        update={"test_key_requests_per_minute": 2, "test_key_tokens_per_minute": 50_000}
    )
    async with run_gateway(settings) as gateway:
        d = await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8])
        [key] = await issue_test_keys(events, gateway, d, "mallory", 1)
        await clear_of_minute_end()
        async with gateway.client() as client:
            answers = [
                await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(key))
                for _ in range(3)
            ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-limit-requests"] == "2"
    assert answers[0].headers["x-ratelimit-limit-tokens"] == "50000"
