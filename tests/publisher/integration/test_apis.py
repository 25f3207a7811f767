import asyncio

import pytest

from aigw.common.events import Envelope
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"


async def _events_named(publisher: Publisher, event_type: str) -> list[Envelope]:
    events = await stream_events(publisher.settings.nats_url, event_type)
    return [e for e in events if e.data.get("name") == publisher.name]


async def test_create_the_getting_started_api(publisher: Publisher):
    async with publisher.expect_event("aigw.api.created") as created_event:
        created = await publisher.create()
        created_event.about(created["id"])
    assert created["lifecycleStatus"] == "CREATED"
    assert created["context"] == "mistralaiapi"
    assert created["version"] == "0.0.2"
    assert created["routePrefix"] == "mistralaiapi/0.0.2"
    assert created["aiVendor"] == {"name": "MistralAI", "version": "v1"}
    assert created["endpoints"]["production"] == "https://api.mistral.ai"
    assert created["hasDeployment"] is False
    assert created["deployedRevision"] is None
    assert "createdTime" in created

    event = await created_event
    assert event.actor == "admin"
    assert event.source == "publisher"
    assert event.data["context"] == "mistralaiapi"

    fetched = await publisher.client.get(f"{APIS}/{created['id']}")
    assert fetched.json() == created


async def test_version_placeholder_puts_the_version_first(publisher: Publisher):
    created = await publisher.create(context="/{version}/mistralaiapi")
    assert created["context"] == "{version}/mistralaiapi"
    assert created["routePrefix"] == "0.0.2/mistralaiapi"
    # A different route from the plain context, so both can exist.
    await publisher.create()
    listed = (await publisher.client.get(APIS)).json()
    assert listed["count"] == 2
    assert {a["routePrefix"] for a in listed["list"]} == {
        "0.0.2/mistralaiapi",
        "mistralaiapi/0.0.2",
    }


async def test_same_context_and_version_twice_is_409_and_nothing_half_written(
    publisher: Publisher,
):
    await publisher.create()
    response = await publisher.client.post(APIS, json=publisher.body(description="again"))
    assert response.status_code == 409
    assert "mistralaiapi/0.0.2" in response.json()["description"]
    assert (await publisher.client.get(APIS)).json()["count"] == 1
    assert len(await _events_named(publisher, "aigw.api.created")) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "at most 100"),
        ({"context": "a//b"}, "empty segments"),
        ({"context": "../secret"}, "'..'"),
        ({"context": "bad context"}, "may only contain"),
        ({"version": "1/2"}, "version must be"),
        ({"aiVendor": {"name": "Nope", "version": "v1"}}, "Unknown AI vendor 'Nope'"),
        ({"endpoints": {}}, "at least one of the production and sandbox"),
        ({"endpoints": {"production": "mistral.ai"}}, "http:// or https://"),
        ({"name": None}, "name"),
    ],
)
async def test_bad_fields_are_422_with_a_message(publisher: Publisher, overrides, message):
    response = await publisher.client.post(APIS, json=publisher.body(**overrides))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == 422
    assert message in body["description"]


async def test_missing_fields_are_422(publisher: Publisher):
    response = await publisher.client.post(APIS, json={"name": "x"})
    assert response.status_code == 422
    for field in ("context", "version", "aiVendor", "endpoints"):
        assert field in response.json()["description"]


async def test_malformed_json_is_400(publisher: Publisher):
    response = await publisher.client.post(
        APIS, content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == 400


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", "api"),
        ("DELETE", "", None),
        ("POST", "/deploy", None),
        ("POST", "/undeploy", None),
        ("POST", "/lifecycle", {"action": "publish"}),
        ("GET", "/backend-security", None),
        ("PUT", "/backend-security", {"production": {"apiKey": "k"}}),
    ],
)
@pytest.mark.parametrize("api_id", ["no-such-id", "507f1f77bcf86cd799439011"])
async def test_unknown_id_is_404(publisher: Publisher, method, suffix, body, api_id):
    json = publisher.body() if body == "api" else body
    response = await publisher.client.request(method, f"{APIS}/{api_id}{suffix}", json=json)
    assert response.status_code == 404
    assert api_id in response.json()["description"]


async def test_update_changes_the_definition_and_keeps_routes_unique(publisher: Publisher):
    first = await publisher.create()
    second = await publisher.create(context="otherapi")

    changed = publisher.body(version="0.0.3", description="new", context="/mistralaiapi")
    async with publisher.expect_event("aigw.api.updated", first["id"]) as updated_event:
        response = await publisher.client.put(f"{APIS}/{first['id']}", json=changed)
    assert response.status_code == 200
    updated = response.json()
    assert updated["routePrefix"] == "mistralaiapi/0.0.3"
    assert updated["description"] == "new"
    assert updated["createdTime"] == first["createdTime"]

    clash = await publisher.client.put(f"{APIS}/{second['id']}", json=changed)
    assert clash.status_code == 409
    unchanged = (await publisher.client.get(f"{APIS}/{second['id']}")).json()
    assert unchanged["routePrefix"] == "otherapi/0.0.2"

    event = await updated_event
    assert event.data["version"] == "0.0.3"
    assert event.data["lifecycle_status"] == "CREATED"


async def test_delete_frees_the_context(publisher: Publisher):
    created = await publisher.create()
    async with publisher.expect_event("aigw.api.deleted", created["id"]):
        response = await publisher.client.delete(f"{APIS}/{created['id']}")
        assert response.status_code == 204
        assert (await publisher.client.get(f"{APIS}/{created['id']}")).status_code == 404
        assert (await publisher.client.delete(f"{APIS}/{created['id']}")).status_code == 404

    again = await publisher.create()
    assert again["id"] != created["id"]
    assert (await publisher.client.get(APIS)).json()["count"] == 1
    # The relay removes the deleted document once its delete event is out.
    db = publisher.app.state.runtime.db
    assert await db["apis"].find_one({"_id": created["id"]}) is None


async def test_concurrent_creates_of_one_route_let_exactly_one_win(publisher: Publisher):
    responses = await asyncio.gather(
        *(publisher.client.post(APIS, json=publisher.body()) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert (await publisher.client.get(APIS)).json()["count"] == 1
