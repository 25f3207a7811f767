import uuid

import httpx
import pytest

from tests.devportal.helpers import api_event, created, publish, publish_api
from tests.support.events import wait_for_event
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
async def app_id(devportal: httpx.AsyncClient) -> str:
    response = await devportal.post("/applications", json={"name": "subscriber-app"})
    return str(response.json()["id"])


@pytest.fixture
async def api_id(devportal: httpx.AsyncClient, infra: Infra) -> str:
    return await publish_api(devportal, infra.nats_url)


async def test_subscribe_returns_201_and_emits_an_event(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str, api_id: str
) -> None:
    response = await devportal.post(
        "/subscriptions", json={"applicationId": app_id, "apiId": api_id, "policy": "Unlimited"}
    )

    assert response.status_code == 201, response.text
    sub = response.json()
    assert set(sub) == {"id", "applicationId", "apiId", "policy", "status", "createdTime"}
    assert (sub["applicationId"], sub["apiId"]) == (app_id, api_id)
    assert (sub["policy"], sub["status"]) == ("Unlimited", "UNBLOCKED")
    event = await wait_for_event(infra.nats_url, "aigw.subscription.created", sub["id"])
    assert event.data == {
        "subscription_id": sub["id"],
        "application_id": app_id,
        "api_id": api_id,
        "policy": "Unlimited",
    }


async def test_policy_defaults_to_unlimited_and_unknown_ones_are_422(
    devportal: httpx.AsyncClient, app_id: str, api_id: str
) -> None:
    body = {"applicationId": app_id, "apiId": api_id}
    response = await devportal.post("/subscriptions", json={**body, "policy": "Gold"})
    assert response.status_code == 422
    assert "Unknown subscription policy" in response.json()["description"]

    response = await devportal.post("/subscriptions", json=body)
    assert response.json()["policy"] == "Unlimited"


async def test_same_application_and_api_twice_is_409(
    devportal: httpx.AsyncClient, app_id: str, api_id: str
) -> None:
    body = {"applicationId": app_id, "apiId": api_id}
    assert (await devportal.post("/subscriptions", json=body)).status_code == 201
    response = await devportal.post("/subscriptions", json=body)
    assert response.status_code == 409


async def test_unknown_or_someone_elses_application_is_404(
    devportal: httpx.AsyncClient, bob: dict[str, str], app_id: str, api_id: str
) -> None:
    body = {"applicationId": str(uuid.uuid4()), "apiId": api_id}
    assert (await devportal.post("/subscriptions", json=body)).status_code == 404
    body = {"applicationId": app_id, "apiId": api_id}
    assert (await devportal.post("/subscriptions", json=body, headers=bob)).status_code == 404


async def test_unpublished_or_unknown_api_is_404(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str
) -> None:
    draft = str(uuid.uuid4())
    await publish(infra.nats_url, api_event(created(draft)))
    await publish_api(devportal, infra.nats_url)  # the draft's event was applied before this

    for api_id in (draft, str(uuid.uuid4())):
        body = {"applicationId": app_id, "apiId": api_id}
        response = await devportal.post("/subscriptions", json=body)
        assert response.status_code == 404
        assert "not published" in response.json()["description"]


async def test_missing_fields_are_422(devportal: httpx.AsyncClient) -> None:
    response = await devportal.post("/subscriptions", json={"apiId": "x"})
    assert response.status_code == 422


async def test_list_filters_by_application_and_owner(
    devportal: httpx.AsyncClient, bob: dict[str, str], app_id: str, api_id: str
) -> None:
    other = (await devportal.post("/applications", json={"name": "other"})).json()["id"]
    for application in (app_id, other):
        body = {"applicationId": application, "apiId": api_id}
        await devportal.post("/subscriptions", json=body)

    assert (await devportal.get("/subscriptions")).json()["count"] == 2
    one = (await devportal.get("/subscriptions", params={"applicationId": app_id})).json()
    assert [s["applicationId"] for s in one["list"]] == [app_id]
    assert (await devportal.get("/subscriptions", headers=bob)).json()["count"] == 0
    params = {"applicationId": app_id}
    assert (await devportal.get("/subscriptions", params=params, headers=bob)).status_code == 404


async def test_unsubscribe_returns_204_and_emits_an_event(
    devportal: httpx.AsyncClient, infra: Infra, bob: dict[str, str], app_id: str, api_id: str
) -> None:
    body = {"applicationId": app_id, "apiId": api_id}
    sub = (await devportal.post("/subscriptions", json=body)).json()

    assert (await devportal.delete(f"/subscriptions/{sub['id']}", headers=bob)).status_code == 404
    assert (await devportal.delete(f"/subscriptions/{sub['id']}")).status_code == 204
    assert (await devportal.delete(f"/subscriptions/{sub['id']}")).status_code == 404
    event = await wait_for_event(infra.nats_url, "aigw.subscription.deleted", sub["id"])
    assert event.actor == "alice"
    # subscribing again after unsubscribing is allowed
    assert (await devportal.post("/subscriptions", json=body)).status_code == 201
