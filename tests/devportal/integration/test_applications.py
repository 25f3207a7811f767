from typing import Any

import httpx
import pytest

from tests.support.devportal import publish_api
from tests.support.events import wait_for_event
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


async def create_app(
    client: httpx.AsyncClient, name: str = "chat-app", **extra: str
) -> dict[str, Any]:
    response = await client.post("/applications", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_returns_the_application_and_emits_an_event(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    app = await create_app(devportal, "chat-app", description="my bot")

    assert set(app) == {"id", "name", "description", "owner", "createdTime"}
    assert (app["name"], app["description"], app["owner"]) == ("chat-app", "my bot", "alice")
    event = await wait_for_event(infra.nats_url, "aigw.application.created", app["id"])
    assert event.data == {"application_id": app["id"], "name": "chat-app", "owner": "alice"}
    assert (event.actor, event.source) == ("alice", "devportal")


async def test_create_needs_a_token(devportal: httpx.AsyncClient) -> None:
    response = await devportal.post(
        "/applications", json={"name": "x"}, headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
async def test_name_must_be_1_to_100_characters(devportal: httpx.AsyncClient, name: str) -> None:
    response = await devportal.post("/applications", json={"name": name})
    assert response.status_code == 422
    assert response.json()["code"] == 422


async def test_malformed_json_is_400(devportal: httpx.AsyncClient) -> None:
    response = await devportal.post(
        "/applications", content=b"{name", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_same_name_twice_is_409_but_other_owners_may_use_it(
    devportal: httpx.AsyncClient, bob: dict[str, str]
) -> None:
    await create_app(devportal, "dup")
    response = await devportal.post("/applications", json={"name": "dup"})
    assert response.status_code == 409
    assert response.json()["code"] == 409

    response = await devportal.post("/applications", json={"name": "dup"}, headers=bob)
    assert response.status_code == 201


async def test_each_caller_sees_only_their_own_applications(
    devportal: httpx.AsyncClient, bob: dict[str, str], signer
) -> None:
    mine = await create_app(devportal, "mine")
    theirs = (await devportal.post("/applications", json={"name": "b"}, headers=bob)).json()

    listing = (await devportal.get("/applications")).json()
    assert listing == {"count": 1, "list": [mine]}
    assert (await devportal.get(f"/applications/{mine['id']}")).json() == mine
    assert (await devportal.get(f"/applications/{theirs['id']}")).status_code == 404
    # an admin is no exception: the portal lists the caller's own applications
    admin = signer.auth("admin", ("admin",))
    assert (await devportal.get("/applications", headers=admin)).json()["count"] == 0


async def test_delete_removes_it_frees_the_name_and_emits_an_event(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    app = await create_app(devportal, "short-lived")

    assert (await devportal.delete(f"/applications/{app['id']}")).status_code == 204
    assert (await devportal.get(f"/applications/{app['id']}")).status_code == 404
    assert (await devportal.delete(f"/applications/{app['id']}")).status_code == 404
    await wait_for_event(infra.nats_url, "aigw.application.deleted", app["id"])
    await create_app(devportal, "short-lived")


async def test_someone_elses_application_cannot_be_deleted(
    devportal: httpx.AsyncClient, bob: dict[str, str]
) -> None:
    app = await create_app(devportal)
    response = await devportal.delete(f"/applications/{app['id']}", headers=bob)
    assert response.status_code == 404
    assert (await devportal.get(f"/applications/{app['id']}")).status_code == 200


async def test_delete_also_deletes_its_subscriptions(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    api_id = await publish_api(devportal, infra.nats_url)
    app = await create_app(devportal)
    body = {"applicationId": app["id"], "apiId": api_id}
    sub = (await devportal.post("/subscriptions", json=body)).json()

    assert (await devportal.delete(f"/applications/{app['id']}")).status_code == 204

    event = await wait_for_event(infra.nats_url, "aigw.subscription.deleted", sub["id"])
    assert event.data == {
        "subscription_id": sub["id"],
        "application_id": app["id"],
        "api_id": api_id,
    }
    assert (await devportal.get("/subscriptions")).json() == {"count": 0, "list": []}


@pytest.mark.parametrize(
    ("header", "kept"), [("corr-dp-1", True), ("x" * 129, False), ("not ok", False)]
)
async def test_correlation_id_is_kept_if_well_formed_and_replaced_otherwise(
    devportal: httpx.AsyncClient, infra: Infra, header: str, kept: bool
) -> None:
    response = await devportal.post(
        "/applications", json={"name": "traced"}, headers={"X-Correlation-ID": header}
    )
    assert response.status_code == 201, response.text  # a bad id is ignored, not an error
    event = await wait_for_event(infra.nats_url, "aigw.application.created", response.json()["id"])
    assert (event.correlationid == header) is kept
