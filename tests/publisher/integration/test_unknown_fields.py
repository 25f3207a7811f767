"""An unknown field in a request body is a 422 naming it, never silently dropped (a misspelt
`contxt` used to answer 201 with the field lost). A GET answer sent back with PUT still works:
its read-only fields are accepted and ignored. A vendor's OpenAPI document stays free-form."""

from typing import Any

import pytest

from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.refusals import assert_unknown
from tests.support.vendors import vendor_body

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"
POLICIES = f"{API_PREFIX}/subscription-policies"
VENDORS = f"{API_PREFIX}/ai-vendors"


async def _api_events(publisher: Publisher) -> list[dict[str, Any]]:
    events = await stream_events(publisher.settings.nats_url, "aigw.api.>")
    return [e.data for e in events if e.data.get("name") == publisher.name]


async def test_a_misspelt_field_is_refused_and_nothing_is_stored(publisher: Publisher) -> None:
    body = publisher.body()
    body["contxt"] = body.pop("context")
    response = await publisher.client.post(APIS, json={**body, "context": "mistralaiapi"})
    assert_unknown(response, "contxt")
    listed = (await publisher.client.get(APIS)).json()
    assert [api for api in listed["list"] if api["name"] == publisher.name] == []
    assert await _api_events(publisher) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"endpoints": {"production": "https://api.mistral.ai", "sandbx": "x"}},
            "endpoints.sandbx",
        ),
        ({"aiVendor": {"name": "MistralAI", "version": "v1", "tier": "x"}}, "aiVendor.tier"),
        ({"backendThrottle": {"production": 5, "prod": 1}}, "backendThrottle.prod"),
        (
            {"routing": {"production": {"targets": [{"endpoint": "production", "wieght": 2}]}}},
            "routing.production.targets.0.wieght",
        ),
    ],
)
async def test_unknown_nested_fields_are_refused(
    publisher: Publisher, change: dict[str, Any], field: str
) -> None:
    assert_unknown(await publisher.client.post(APIS, json=publisher.body(**change)), field)


async def test_get_then_put_round_trips_and_read_only_fields_are_ignored(
    publisher: Publisher,
) -> None:
    created = await publisher.create()
    fetched = (await publisher.client.get(f"{APIS}/{created['id']}")).json()
    edited = {**fetched, "description": "edited", "lifecycleStatus": "PUBLISHED", "id": "other"}
    response = await publisher.client.put(f"{APIS}/{created['id']}", json=edited)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["description"] == "edited"
    assert updated["id"] == created["id"]
    assert updated["lifecycleStatus"] == created["lifecycleStatus"]  # read-only: ignored
    assert_unknown(
        await publisher.client.put(f"{APIS}/{created['id']}", json={**fetched, "contxt": "x"}),
        "contxt",
    )
    # on create, the read-only fields are no more known than any other
    assert_unknown(
        await publisher.client.post(APIS, json=publisher.body(lifecycleStatus="PUBLISHED")),
        "lifecycleStatus",
    )


async def test_lifecycle_and_backend_security_refuse_unknown_fields(publisher: Publisher) -> None:
    api_id = (await publisher.create())["id"]
    lifecycle = {"action": "publish", "force": True}
    assert_unknown(
        await publisher.client.post(f"{APIS}/{api_id}/lifecycle", json=lifecycle), "force"
    )
    keys = {"production": {"apiKey": "sk-1", "apikey": "sk-2"}}
    response = await publisher.client.put(f"{APIS}/{api_id}/backend-security", json=keys)
    assert_unknown(response, "production.apikey")


async def test_plans_refuse_unknown_fields_and_round_trip(
    publisher: Publisher, unique: str
) -> None:
    name = f"Plan-{unique}"
    body = {"name": name, "limits": [{"unit": "minute", "requests": 5, "request": 6}]}
    assert_unknown(await publisher.client.post(POLICIES, json=body), "limits.0.request")
    body = {"name": name, "limits": [{"unit": "minute", "requests": 5}], "defaultTokens": 1}
    assert_unknown(await publisher.client.post(POLICIES, json=body), "defaultTokens")
    del body["defaultTokens"]
    assert (await publisher.client.post(POLICIES, json=body)).status_code == 201
    fetched = (await publisher.client.get(f"{POLICIES}/{name}")).json()
    response = await publisher.client.put(
        f"{POLICIES}/{name}", json={**fetched, "description": "edited"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "edited"


async def test_vendors_refuse_unknown_fields_but_not_inside_the_openapi_document(
    publisher: Publisher, unique: str
) -> None:
    name = f"Strict-{unique}"
    assert_unknown(
        await publisher.client.post(VENDORS, json=vendor_body(name, authentication={})),
        "authentication",
    )
    document = {"openapi": "3.1.0", "x-anything": {"nested": [1]}, "paths": {"/v1/x": {"post": {}}}}
    created = await publisher.client.post(VENDORS, json=vendor_body(name, apiDefinition=document))
    assert created.status_code == 201, created.text
    fetched = (await publisher.client.get(f"{VENDORS}/{name}/v1")).json()
    assert fetched["apiDefinition"] == document
    response = await publisher.client.put(
        f"{VENDORS}/{name}/v1", json={**fetched, "description": "edited"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "edited"
    assert response.json()["builtIn"] is False


def test_the_openapi_document_says_request_bodies_are_closed(publisher: Publisher) -> None:
    schemas = publisher.app.openapi()["components"]["schemas"]
    for name in ("ApiIn", "ApiUpdate", "Endpoints", "LifecycleIn", "PolicyIn", "VendorUpdate"):
        assert schemas[name].get("additionalProperties") is False, name
    assert schemas["ApiUpdate"]["properties"]["lifecycleStatus"]["readOnly"] is True
