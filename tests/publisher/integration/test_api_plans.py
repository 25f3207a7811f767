"""An API's offered plans (validated against the policies) and its backend protection, as the
API shows them and as ApiPublished / ApiUpdated / ApiDeployed carry them."""

from typing import Any

import pytest

from aigw.common.events import ApiDeployed, ApiPublished, ApiUpdated
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"


async def test_an_api_offers_unlimited_and_no_backend_limit_by_default(
    publisher: Publisher,
) -> None:
    api = await publisher.create()
    assert api["policies"] == ["Unlimited"]
    assert api["backendThrottle"] == {"production": None, "sandbox": None}


async def test_offered_plans_must_exist(publisher: Publisher) -> None:
    body = publisher.body(policies=["Gold", "NoSuchPlan"])
    response = await publisher.client.post(APIS, json=body)
    assert response.status_code == 422
    assert "NoSuchPlan" in response.json()["description"]

    api = await publisher.create(policies=["Gold", "AITokensGold", "Gold"])
    assert api["policies"] == ["Gold", "AITokensGold"]  # duplicates dropped
    response = await publisher.client.put(f"{APIS}/{api['id']}", json=body)
    assert response.status_code == 422
    assert (await publisher.client.get(f"{APIS}/{api['id']}")).json()["policies"] == [
        "Gold",
        "AITokensGold",
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"policies": []},
        {"policies": ["bad name"]},
        {"backendThrottle": {"production": 0}},
        {"backendThrottle": {"sandbox": "10"}},
    ],
)
async def test_malformed_plans_or_throttle_are_422(
    publisher: Publisher, body: dict[str, Any]
) -> None:
    response = await publisher.client.post(APIS, json=publisher.body(**body))
    assert response.status_code == 422, response.text


async def test_update_and_publish_events_carry_the_offered_plans(publisher: Publisher) -> None:
    api = await publisher.create(policies=["Gold"])
    async with publisher.expect_event(ApiUpdated.TYPE, api["id"]) as update:
        updated = await publisher.client.put(
            f"{APIS}/{api['id']}", json=publisher.body(policies=["Silver", "AITokensBronze"])
        )
    assert updated.json()["policies"] == ["Silver", "AITokensBronze"]
    event = ApiUpdated.from_envelope(await update)
    assert event.policies == ["Silver", "AITokensBronze"]

    await publisher.keyless(api["id"])
    await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    async with publisher.expect_event(ApiPublished.TYPE, api["id"]) as published:
        await publisher.client.post(f"{APIS}/{api['id']}/lifecycle", json={"action": "publish"})
    assert ApiPublished.from_envelope(await published).policies == ["Silver", "AITokensBronze"]


async def test_deploy_carries_the_backend_throttle(publisher: Publisher) -> None:
    throttle = {"production": 50, "sandbox": None}
    api = await publisher.create(backendThrottle=throttle)
    assert api["backendThrottle"] == throttle
    await publisher.keyless(api["id"])

    async with publisher.expect_event(ApiDeployed.TYPE, api["id"]) as deployed:
        await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    snapshot = ApiDeployed.from_envelope(await deployed)
    assert (snapshot.backend_throttle.production, snapshot.backend_throttle.sandbox) == (50, None)

    await publisher.client.put(
        f"{APIS}/{api['id']}", json=publisher.body(backendThrottle={"sandbox": 5})
    )
    await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    events = await stream_events(publisher.settings.nats_url, ApiDeployed.TYPE)
    latest = ApiDeployed.from_envelope([e for e in events if e.subject == api["id"]][-1])
    assert (latest.revision, latest.backend_throttle.sandbox) == (2, 5)
    assert latest.backend_throttle.production is None
