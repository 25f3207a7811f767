"""Quotas per subscription: every kind, on streamed and JSON calls; reservations under
concurrency and their settlement; plan changes; backend protection."""

import asyncio
import json
import uuid

import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import (
    BackendThrottle,
    KeyIssued,
    QuotaLimit,
    SubscriptionCreated,
    SubscriptionUpdated,
)
from tests.support.gateway import CHAT, PATH, bearer, deploy_event, set_plan

pytestmark = pytest.mark.integration

DAY = "day"  # a day window: a test never straddles its reset


def chat(stream: bool, **extra: object) -> dict[str, object]:
    return {**CHAT, "stream": stream, **extra} if stream else {**CHAT, **extra}


@pytest.mark.parametrize("stream", [False, True])
async def test_request_quota(gateway, deployed_api, events, stream):
    d = deployed_api
    await set_plan(events, gateway, d, QuotaLimit(unit=DAY, requests=3))
    async with gateway.client() as client:
        answers = [
            await client.post(
                f"/{d.prefix}{PATH}", json=chat(stream), headers=bearer(d.production_key)
            )
            for _ in range(4)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining-requests"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["x-ratelimit-limit-requests"] == "3" for a in answers)
    assert "x-ratelimit-limit-tokens" not in answers[0].headers
    refused = answers[3]
    assert 1 <= int(refused.headers["retry-after"]) <= 86400
    assert refused.headers["x-ratelimit-reset-requests"].endswith("s")
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert refused.json()["error"]["code"] == "quota_exceeded"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("kind", ["prompt_tokens", "completion_tokens", "total_tokens"])
async def test_token_quotas_are_charged_with_the_providers_counts(
    gateway, deployed_api, events, stream, kind
):
    d = deployed_api
    # limit: what two calls use; the reservation (prompt estimate + 5 completion tokens) is
    # small enough to let the first two in, the provider's counts then exhaust the window
    async with gateway.client() as client:
        probe = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key))
    per_call = probe.json()["usage"][kind]
    await set_plan(events, gateway, d, QuotaLimit(unit=DAY, **{kind: 2 * per_call}))
    body = chat(stream, max_tokens=5)
    async with gateway.client() as client:
        answers = [
            await client.post(f"/{d.prefix}{PATH}", json=body, headers=bearer(d.production_key))
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-limit-tokens"] == str(2 * per_call)
    assert answers[2].headers["x-ratelimit-remaining-tokens"] == "0"
    assert kind.replace("_", " ") in answers[2].json()["error"]["message"]
    used = gateway.app.quota.book.used(_key(d, gateway), _position(kind))
    assert used == 2 * per_call  # settled: the provider's counts, no reservation left


def _position(kind: str) -> int:
    return ["requests", "prompt_tokens", "completion_tokens", "total_tokens"].index(kind)


def _key(d, gateway):
    [key] = [k for k in gateway.app.quota.book.own if k[:2] == (d.app_id, d.api_id)]
    return key


async def test_concurrent_burst_is_held_by_reservations(gateway, deployed_api, events):
    d = deployed_api
    raw = json.dumps(chat(False, max_tokens=100)).encode()
    reservation = (len(raw) + 3) // 4 + 100
    await set_plan(events, gateway, d, QuotaLimit(unit=DAY, total_tokens=2 * reservation - 1))
    headers = {**bearer(d.production_key), "content-type": "application/json"}
    headers["x-mock-latency-ms"] = "300"  # all ten are admitted or refused before any settles
    async with gateway.client() as client:
        answers = await asyncio.gather(
            *(client.post(f"/{d.prefix}{PATH}", content=raw, headers=headers) for _ in range(10))
        )
    assert sorted(a.status_code for a in answers) == [200, 200] + [429] * 8


async def test_reservation_is_settled_and_released(gateway, deployed_api, events, mock):
    d = deployed_api
    raw = json.dumps(chat(False, max_tokens=50)).encode()
    reservation = (len(raw) + 3) // 4 + 50
    await set_plan(events, gateway, d, QuotaLimit(unit=DAY, total_tokens=10_000))
    headers = {**bearer(d.production_key), "content-type": "application/json"}
    async with gateway.client() as client:
        first = await client.post(f"/{d.prefix}{PATH}", content=raw, headers=headers)
        second = await client.post(f"/{d.prefix}{PATH}", content=raw, headers=headers)
        await mock.post("/_mock/config", json={"failStatus": 500})
        failed = await client.post(f"/{d.prefix}{PATH}", content=raw, headers=headers)
    used = first.json()["usage"]["total_tokens"]
    assert first.headers["x-ratelimit-remaining-tokens"] == str(10_000 - reservation)
    assert second.headers["x-ratelimit-remaining-tokens"] == str(10_000 - used - reservation)
    assert failed.status_code == 500
    book = gateway.app.quota.book
    assert book.used(_key(d, gateway), 3) == 2 * used  # the provider's 500 used no tokens
    assert book.used(_key(d, gateway), 0) == 3


async def test_unreachable_provider_releases_the_reservation(gateway, events, mock_provider):
    unique = uuid.uuid4().hex[:8]
    api_id, app_id, prefix = f"api-{unique}", f"app-{unique}", f"chat{unique}/1.0"
    dead = "http://127.0.0.1:9/v1"
    await events.publish(
        deploy_event(events, api_id, prefix, mock_provider, unique, production_url=dead),
        *_subscribed_key(unique, api_id, app_id),
    )
    await gateway.wait_route(prefix)
    await gateway.wait_until(lambda: sha256_hex(f"prod-{unique}") in gateway.app.state.table.keys)
    d = type("D", (), {"app_id": app_id, "api_id": api_id, "unique": unique, "prefix": prefix})
    await set_plan(events, gateway, d, QuotaLimit(unit=DAY, total_tokens=1000))
    async with gateway.client() as client:
        answer = await client.post(f"/{prefix}{PATH}", json=CHAT, headers=bearer(f"prod-{unique}"))
    assert answer.status_code == 502
    assert gateway.app.quota.book.used(_key(d, gateway), 3) == 0


def _subscribed_key(unique: str, api_id: str, app_id: str, policy: str = "Unlimited"):
    return (
        SubscriptionCreated(
            subscription_id=f"sub-{unique}", application_id=app_id, api_id=api_id, policy=policy
        ),
        KeyIssued(
            key_id=f"kp-{unique}",
            key_hash=sha256_hex(f"prod-{unique}"),
            application_id=app_id,
            key_type="PRODUCTION",
        ),
    )


async def test_plan_changes_and_unknown_plans(gateway, deployed_api, events):
    d = deployed_api
    await set_plan(events, gateway, d, QuotaLimit(unit=DAY, requests=1))
    url, key = f"/{d.prefix}{PATH}", bearer(d.production_key)
    table = gateway.app.state.table
    async with gateway.client() as client:
        assert (await client.post(url, json=CHAT, headers=key)).status_code == 200
        assert (await client.post(url, json=CHAT, headers=key)).status_code == 429
        for plan in ("Unlimited", "NoSuchPlan"):
            await events.publish(
                SubscriptionUpdated(
                    subscription_id=f"sub-{d.unique}",
                    application_id=d.app_id,
                    api_id=d.api_id,
                    policy=plan,
                )
            )
            await gateway.wait_until(
                lambda plan=plan: table.subscription_policies[(d.app_id, d.api_id)] == plan
            )
            answer = await client.post(url, json=CHAT, headers=key)
            assert answer.status_code == 200
            assert "x-ratelimit-limit-requests" not in answer.headers


async def test_backend_throttle(gateway, events, mock_provider):
    unique = uuid.uuid4().hex[:8]
    api_id, app_id, prefix = f"api-{unique}", f"app-{unique}", f"chat{unique}/1.0"
    deploy = deploy_event(events, api_id, prefix, mock_provider, unique).model_copy(
        update={"backend_throttle": BackendThrottle(production=2)}
    )
    await events.publish(deploy, *_subscribed_key(unique, api_id, app_id))
    await gateway.wait_route(prefix)
    await gateway.wait_until(lambda: sha256_hex(f"prod-{unique}") in gateway.app.state.table.keys)
    headers = {**bearer(f"prod-{unique}"), "x-mock-latency-ms": "200"}
    async with gateway.client() as client:
        answers = await asyncio.gather(
            *(client.post(f"/{prefix}{PATH}", json=CHAT, headers=headers) for _ in range(8))
        )
    statuses = sorted(a.status_code for a in answers)
    assert 2 <= statuses.count(200) <= 4  # two per second; the burst may straddle a second
    refused = [a for a in answers if a.status_code == 503]
    assert refused
    assert refused[0].json()["error"]["code"] == "backend_throttled"
    assert refused[0].headers["retry-after"] == "1"
    metrics = await gateway.client().get("/metrics")
    assert (
        f'aigw_gateway_quota_rejections_total{{api="Chat {unique}:1.0",kind="backend"}}'
        in metrics.text
    )
