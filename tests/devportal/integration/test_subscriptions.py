import uuid
from typing import Any

import httpx
import pytest

from aigw.devportal.subscriptions import service
from aigw.devportal.subscriptions.repository import SubscriptionRepository
from tests.support.devportal import api_event, created, publish, publish_api
from tests.support.events import stream_events, wait_for_event
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


async def test_policy_defaults_to_unlimited_and_plans_not_offered_are_422(
    devportal: httpx.AsyncClient, app_id: str, api_id: str
) -> None:
    body = {"applicationId": app_id, "apiId": api_id}
    response = await devportal.post("/subscriptions", json={**body, "policy": "Gold"})
    assert response.status_code == 422
    assert "offered policies: Unlimited" in response.json()["description"]

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


@pytest.mark.parametrize("deleted_when", ["before the insert", "after the insert"])
async def test_subscribing_while_the_application_is_deleted_leaves_no_subscription(
    devportal: httpx.AsyncClient,
    infra: Infra,
    monkeypatch: pytest.MonkeyPatch,
    app_id: str,
    api_id: str,
    deleted_when: str,
) -> None:
    """The application's delete lands between subscribe's ownership check and its insert (so
    the delete cannot have seen the subscription), or just after the insert."""
    real_check, real_insert = service.owned_application, SubscriptionRepository.insert

    async def delete_the_application() -> None:
        assert (await devportal.delete(f"/applications/{app_id}")).status_code == 204

    async def check_then_delete(*args: Any) -> dict[str, Any]:
        app = await real_check(*args)
        await delete_the_application()
        return app

    async def insert_then_delete(repo: SubscriptionRepository, *args: Any) -> bool:
        inserted = await real_insert(repo, *args)
        await delete_the_application()
        return inserted

    if deleted_when == "before the insert":
        monkeypatch.setattr(service, "owned_application", check_then_delete)
    else:
        monkeypatch.setattr(SubscriptionRepository, "insert", insert_then_delete)

    body = {"applicationId": app_id, "apiId": api_id}
    response = await devportal.post("/subscriptions", json=body)

    assert response.status_code == 404, response.text
    assert app_id in response.json()["description"]
    assert (await devportal.get("/subscriptions")).json()["count"] == 0
    # whatever the relay already sent, every subscription it announced is withdrawn again
    announced = [
        event.subject
        for event in await stream_events(infra.nats_url, "aigw.subscription.created")
        if event.data["application_id"] == app_id
    ]
    assert len(announced) == 1
    await wait_for_event(infra.nats_url, "aigw.subscription.deleted", announced[0])
