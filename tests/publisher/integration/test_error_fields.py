"""Errors name the fields they are about (`"fields"`), so a form shows each message next to its
field; and backend security tells a deliberately keyless endpoint from one never set."""

import pytest

from tests.support.publisher import API_PREFIX, Publisher

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"


async def test_a_422_names_each_invalid_field(publisher: Publisher):
    body = publisher.body(
        context="not a context!", endpoints={"production": "ftp://x"}, contxt="typo"
    )
    response = await publisher.client.post(APIS, json=body)

    assert response.status_code == 422, response.text
    error = response.json()
    assert {"code", "message", "description"} <= set(error)
    fields = error["fields"]
    assert set(fields) == {"context", "endpoints.production", "contxt"}
    assert "http" in fields["endpoints.production"]
    assert "unknown field" in fields["contxt"]
    for path, message in fields.items():
        assert f"{path}: {message}" in error["description"]  # the description is unchanged


async def test_a_patch_that_does_not_validate_names_its_fields(publisher: Publisher):
    api = await publisher.create()
    response = await publisher.client.patch(
        f"{APIS}/{api['id']}",
        json={"backendThrottle": {"production": 0}},
        headers={"Content-Type": "application/merge-patch+json"},
    )

    assert response.status_code == 422, response.text
    assert set(response.json()["fields"]) == {"backendThrottle.production"}


async def test_a_duplicate_context_and_version_names_both(publisher: Publisher):
    await publisher.create()
    response = await publisher.client.post(APIS, json=publisher.body(name="again"))

    assert response.status_code == 409, response.text
    error = response.json()
    assert "same context and version" in error["description"]
    assert set(error["fields"]) == {"context", "version"}


async def test_errors_about_no_field_carry_no_fields(publisher: Publisher):
    response = await publisher.client.get(f"{APIS}/no-such-api")

    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "description"}


async def test_the_error_fields_are_in_the_openapi_document(publisher: Publisher):
    schema = (await publisher.client.get("/openapi.json")).json()
    error_body = schema["components"]["schemas"]["ErrorBody"]
    assert "fields" in error_body["properties"]
    assert "fields" not in error_body.get("required", [])


async def test_backend_security_tells_keyless_from_unset(publisher: Publisher):
    api = await publisher.create()
    url = f"{APIS}/{api['id']}/backend-security"
    assert (await publisher.client.get(url)).json() == {"production": None, "sandbox": None}

    response = await publisher.client.put(
        url, json={"production": {"apiKey": "mistral-key-0123456789"}, "sandbox": None}
    )

    assert response.status_code == 200, response.text
    expected = {"production": {"apiKey": "****6789"}, "sandbox": {"keyless": True}}
    assert response.json() == expected
    assert (await publisher.client.get(url)).json() == expected

    # moving sandbox to another origin drops the decision: it must be made again
    moved = {"endpoints": {"sandbox": "https://sandbox.example"}}
    patched = await publisher.client.patch(
        f"{APIS}/{api['id']}", json=moved, headers={"Content-Type": "application/json"}
    )
    assert patched.status_code == 200, patched.text
    assert (await publisher.client.get(url)).json()["sandbox"] is None
