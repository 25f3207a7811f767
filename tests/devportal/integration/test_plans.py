"""Business plans in the portal: learned from aigw.policy.updated, offered per API by the
catalogue events, picked when subscribing and changed afterwards."""

import uuid
from typing import Any

import httpx
import pytest

from aigw.common.events import PolicyUpdated, QuotaLimit, SubscriptionUpdated
from tests.support.devportal import api_event, publish, published, wait_for_api, wait_until
from tests.support.events import stream_events, wait_for_event
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


def plan_event(name: str, **fields: Any) -> PolicyUpdated:
    return PolicyUpdated(name=name, **fields)


async def plans(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    body = (await client.get("/subscription-policies")).json()
    return {p["name"]: p for p in body["list"]}


async def offering(client: httpx.AsyncClient, nats_url: str, *policies: str) -> str:
    """A published API that offers `policies`."""
    api_id = str(uuid.uuid4())
    event = published(api_id).model_copy(update={"policies": list(policies)})
    await publish(nats_url, api_event(event))
    await wait_for_api(client, api_id)
    return api_id


@pytest.fixture
async def app_id(devportal: httpx.AsyncClient) -> str:
    response = await devportal.post("/applications", json={"name": "plans-app"})
    return str(response.json()["id"])


async def test_plans_are_learned_from_policy_events(
    devportal: httpx.AsyncClient, infra: Infra, unique: str
) -> None:
    name = f"Plan-{unique}"
    limit = QuotaLimit(unit="minute", total_tokens=1000, requests=10)
    await publish(
        infra.nats_url, api_event(plan_event(name, description="tokens per minute", limits=[limit]))
    )

    async def learned() -> bool:
        return name in await plans(devportal)

    await wait_until(learned)
    assert (await plans(devportal))[name] == {
        "name": name,
        "description": "tokens per minute",
        "limits": [
            {
                "unit": "minute",
                "requests": 10,
                "totalTokens": 1000,
                "promptTokens": None,
                "completionTokens": None,
            }
        ],
        "defaultCompletionTokens": 256,
    }

    await publish(infra.nats_url, api_event(plan_event(name, deleted=True)))

    async def forgotten() -> bool:
        return name not in await plans(devportal)

    await wait_until(forgotten)


async def test_the_catalogue_shows_the_offered_plans(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    api_id = await offering(devportal, infra.nats_url, "Gold", "AITokensGold")
    assert (await devportal.get(f"/apis/{api_id}")).json()["policies"] == ["Gold", "AITokensGold"]


async def test_subscribe_with_an_offered_plan(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str
) -> None:
    api_id = await offering(devportal, infra.nats_url, "Gold", "AITokensGold")
    body = {"applicationId": app_id, "apiId": api_id, "policy": "AITokensGold"}
    response = await devportal.post("/subscriptions", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["policy"] == "AITokensGold"
    event = await wait_for_event(infra.nats_url, "aigw.subscription.created", response.json()["id"])
    assert event.data["policy"] == "AITokensGold"


async def test_a_plan_the_api_does_not_offer_is_422_listing_the_offered_ones(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str
) -> None:
    api_id = await offering(devportal, infra.nats_url, "Gold", "Silver")
    for body in ({"policy": "Bronze"}, {}):  # no policy: Unlimited, not offered here
        response = await devportal.post(
            "/subscriptions", json={"applicationId": app_id, "apiId": api_id, **body}
        )
        assert response.status_code == 422
        assert "offered policies: Gold, Silver" in response.json()["description"]


async def test_change_plan_emits_subscription_updated(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str
) -> None:
    api_id = await offering(devportal, infra.nats_url, "Gold", "Silver")
    sub = await devportal.post(
        "/subscriptions", json={"applicationId": app_id, "apiId": api_id, "policy": "Gold"}
    )
    sub_id = sub.json()["id"]

    response = await devportal.put(f"/subscriptions/{sub_id}", json={"policy": "Silver"})
    assert response.status_code == 200, response.text
    assert response.json()["policy"] == "Silver"
    listed = (await devportal.get("/subscriptions", params={"applicationId": app_id})).json()
    assert [s["policy"] for s in listed["list"]] == ["Silver"]
    event = await wait_for_event(infra.nats_url, SubscriptionUpdated.TYPE, sub_id)
    assert event.data == {
        "subscription_id": sub_id,
        "application_id": app_id,
        "api_id": api_id,
        "policy": "Silver",
    }

    # the same plan again changes nothing and announces nothing
    response = await devportal.put(f"/subscriptions/{sub_id}", json={"policy": "Silver"})
    assert response.status_code == 200
    events = await stream_events(infra.nats_url, SubscriptionUpdated.TYPE)
    assert len([e for e in events if e.subject == sub_id]) == 1


async def test_change_plan_errors(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str, bob: dict[str, str]
) -> None:
    api_id = await offering(devportal, infra.nats_url, "Gold", "Silver")
    sub = await devportal.post(
        "/subscriptions", json={"applicationId": app_id, "apiId": api_id, "policy": "Gold"}
    )
    url = f"/subscriptions/{sub.json()['id']}"

    response = await devportal.put(url, json={"policy": "Bronze"})
    assert response.status_code == 422
    assert "offered policies: Gold, Silver" in response.json()["description"]
    # someone else's subscription, or none at all: 404
    assert (await devportal.put(url, json={"policy": "Silver"}, headers=bob)).status_code == 404
    missing = f"/subscriptions/{uuid.uuid4()}"
    assert (await devportal.put(missing, json={"policy": "Silver"})).status_code == 404
    assert (await devportal.put(url, json={})).status_code == 422

    subs = (await devportal.get("/subscriptions", params={"applicationId": app_id})).json()
    assert [s["policy"] for s in subs["list"]] == ["Gold"]
