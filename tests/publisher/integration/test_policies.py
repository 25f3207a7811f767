"""Subscription policies (business plans): the admin API, its events and the default plans."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigw.common.events import PolicyUpdated
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration

POLICIES = f"{API_PREFIX}/subscription-policies"
DEFAULTS = {
    "Unlimited",
    "Gold",
    "Silver",
    "Bronze",
    "AITokensGold",
    "AITokensSilver",
    "AITokensBronze",
}


def plan(name: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "description": "10k tokens a minute",
        "limits": [
            {"unit": "minute", "totalTokens": 10_000, "requests": 100},
            {"unit": "day", "completionTokens": 500_000},
        ],
        "defaultCompletionTokens": 128,
    }
    return {**body, **overrides}


@pytest.fixture
def name(unique: str) -> str:
    return f"Plan-{unique}"


async def test_create_get_list_and_the_event(publisher: Publisher, name: str) -> None:
    async with publisher.expect_event(PolicyUpdated.TYPE, name) as updated:
        response = await publisher.client.post(POLICIES, json=plan(name))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["limits"][0] == {
        "unit": "minute",
        "requests": 100,
        "totalTokens": 10_000,
        "promptTokens": None,
        "completionTokens": None,
    }
    assert created["defaultCompletionTokens"] == 128
    assert (await publisher.client.get(f"{POLICIES}/{name}")).json() == created
    listed = (await publisher.client.get(POLICIES)).json()
    assert {p["name"] for p in listed["list"]} == DEFAULTS | {name}

    event = PolicyUpdated.from_envelope(await updated)
    assert event.deleted is False
    assert event.default_completion_tokens == 128
    assert [(q.unit, q.requests, q.total_tokens, q.completion_tokens) for q in event.limits] == [
        ("minute", 100, 10_000, None),
        ("day", None, None, 500_000),
    ]


async def test_duplicate_name_is_409(publisher: Publisher, name: str) -> None:
    assert (await publisher.client.post(POLICIES, json=plan(name))).status_code == 201
    response = await publisher.client.post(POLICIES, json=plan(name))
    assert response.status_code == 409
    assert name in response.json()["description"]
    assert (await publisher.client.post(POLICIES, json=plan("Gold"))).status_code == 409


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "has space"},
        {"name": "x" * 65},
        {"limits": [{"unit": "minute"}]},  # no counter
        {"limits": [{"unit": "week", "requests": 1}]},
        {"limits": [{"unit": "minute", "requests": 0}]},
        {"limits": [{"unit": "minute", "requests": -5}]},
        {"limits": [{"unit": "minute", "requests": "5"}]},
        {"limits": [{"unit": "minute", "totalTokens": 1.5}]},
        {"limits": [{"unit": "hour", "requests": 1}, {"unit": "hour", "totalTokens": 9}]},
        {"defaultCompletionTokens": 0},
    ],
)
async def test_invalid_plans_are_422(
    publisher: Publisher, name: str, overrides: dict[str, Any]
) -> None:
    response = await publisher.client.post(POLICIES, json={**plan(name), **overrides})
    assert response.status_code == 422, response.text
    assert set(response.json()) == {"code", "message", "description", "fields"}


async def test_update_replaces_the_plan_and_emits_an_event(publisher: Publisher, name: str) -> None:
    await publisher.client.post(POLICIES, json=plan(name))
    change = {"description": "now per hour", "limits": [{"unit": "hour", "promptTokens": 42}]}
    response = await publisher.client.put(f"{POLICIES}/{name}", json=change)
    assert response.status_code == 200, response.text
    assert response.json()["limits"] == [
        {
            "unit": "hour",
            "requests": None,
            "totalTokens": None,
            "promptTokens": 42,
            "completionTokens": None,
        }
    ]
    assert response.json()["defaultCompletionTokens"] == 256

    events = await stream_events(publisher.settings.nats_url, PolicyUpdated.TYPE)
    latest = PolicyUpdated.from_envelope([e for e in events if e.subject == name][-1])
    assert latest.description == "now per hour"
    assert [(q.unit, q.prompt_tokens) for q in latest.limits] == [("hour", 42)]


async def test_update_or_delete_of_an_unknown_plan_is_404(publisher: Publisher) -> None:
    change = {"limits": []}
    assert (await publisher.client.put(f"{POLICIES}/nope", json=change)).status_code == 404
    assert (await publisher.client.delete(f"{POLICIES}/nope")).status_code == 404
    assert (await publisher.client.get(f"{POLICIES}/nope")).status_code == 404


async def test_delete_emits_a_deleted_event_and_frees_the_name(
    publisher: Publisher, name: str
) -> None:
    await publisher.client.post(POLICIES, json=plan(name))
    assert (await publisher.client.delete(f"{POLICIES}/{name}")).status_code == 204
    assert (await publisher.client.get(f"{POLICIES}/{name}")).status_code == 404

    events = await stream_events(publisher.settings.nats_url, PolicyUpdated.TYPE)
    assert PolicyUpdated.from_envelope([e for e in events if e.subject == name][-1]).deleted
    assert (await publisher.client.post(POLICIES, json=plan(name))).status_code == 201


async def test_unlimited_cannot_be_changed_or_deleted(publisher: Publisher) -> None:
    unlimited = f"{POLICIES}/Unlimited"
    response = await publisher.client.put(unlimited, json={"limits": []})
    assert response.status_code == 409
    assert (await publisher.client.delete(unlimited)).status_code == 409
    assert (await publisher.client.get(unlimited)).json()["limits"] == []


async def test_a_plan_an_api_offers_cannot_be_deleted(publisher: Publisher, name: str) -> None:
    await publisher.client.post(POLICIES, json=plan(name))
    api = await publisher.create(policies=[name])
    response = await publisher.client.delete(f"{POLICIES}/{name}")
    assert response.status_code == 409
    assert "offered by 1 API" in response.json()["description"]

    await publisher.client.delete(f"{API_PREFIX}/apis/{api['id']}")
    assert (await publisher.client.delete(f"{POLICIES}/{name}")).status_code == 204


async def test_defaults_are_seeded_with_events(publisher: Publisher) -> None:
    plans = {p["name"]: p for p in (await publisher.client.get(POLICIES)).json()["list"]}
    assert set(plans) == DEFAULTS
    assert plans["Gold"]["limits"] == [
        {
            "unit": "minute",
            "requests": 5000,
            "totalTokens": None,
            "promptTokens": None,
            "completionTokens": None,
        }
    ]
    assert plans["AITokensGold"]["limits"][0]["totalTokens"] == 100_000

    # this publisher's seeding: events no older than its plans (BSON keeps milliseconds)
    created = min(datetime.fromisoformat(p["createdTime"]) for p in plans.values())
    since = created.replace(tzinfo=UTC) - timedelta(milliseconds=1)
    events = await stream_events(publisher.settings.nats_url, PolicyUpdated.TYPE)
    seeded = {e.subject for e in events if e.time >= since}
    assert seeded >= DEFAULTS


async def test_seeding_is_idempotent_and_keeps_deleted_defaults_deleted(
    publisher: Publisher,
) -> None:
    assert (await publisher.client.delete(f"{POLICIES}/Bronze")).status_code == 204
    gold = (await publisher.client.get(f"{POLICIES}/Gold")).json()

    await publisher.app.state.policies.seed_defaults()  # as a restart does

    names = [p["name"] for p in (await publisher.client.get(POLICIES)).json()["list"]]
    assert sorted(names) == sorted(DEFAULTS - {"Bronze"})
    assert (await publisher.client.get(f"{POLICIES}/Gold")).json() == gold


async def test_only_admins_write_and_publishers_read(
    publisher: Publisher, signer: TestSigner, name: str
) -> None:
    as_publisher = signer.auth("pat", ("publisher",))
    as_subscriber = signer.auth("sam", ("subscriber",))
    client = publisher.client
    response = await client.post(POLICIES, json=plan(name), headers=as_publisher)
    assert response.status_code == 403
    assert (await client.put(f"{POLICIES}/Gold", json={}, headers=as_publisher)).status_code == 403
    assert (await client.delete(f"{POLICIES}/Gold", headers=as_publisher)).status_code == 403
    assert (await client.get(POLICIES, headers=as_publisher)).status_code == 200
    assert (await client.get(f"{POLICIES}/Gold", headers=as_publisher)).status_code == 200
    assert (await client.get(POLICIES, headers=as_subscriber)).status_code == 403
