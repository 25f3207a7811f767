"""Guardrails and the response cache through the REST API: set with POST, PUT or PATCH, read
back with GET, stored, carried to the gateways by the deployed revision; a definition that
does not validate is a 422 naming the field, and the API is unchanged."""

from typing import Any

import pytest

from aigw.common.events import ApiDeployed
from tests.support.publisher import API_PREFIX, Publisher

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
GUARDRAILS: list[dict[str, Any]] = [
    {
        "type": "REGEX_GUARDRAIL",
        "name": "no-card-numbers",
        "flow": "both",
        "params": {"regex": r"\b(?:\d[ -]?){13,16}\b", "invert": True, "showAssessment": True},
    },
    {
        "type": "JSON_SCHEMA_GUARDRAIL",
        "name": "json-answers",
        "flow": "response",
        "params": {
            "schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "required": ["answer"],
            }
        },
    },
    {
        "type": "PII_MASKING_REGEX",
        "name": "mask-emails",
        "params": {"piiEntities": [{"piiEntity": "EMAIL", "piiRegex": r"[\w.+-]+@[\w-]+\.\w+"}]},
    },
]
CACHE = {"mode": "semantic", "ttlSeconds": 600, "threshold": 0.92, "scope": "application"}


def _names(api: dict[str, Any]) -> list[str]:
    return [guardrail["name"] for guardrail in api["guardrails"]]


async def _patch(publisher: Publisher, api_id: str, patch: dict[str, Any]) -> Any:
    return await publisher.client.patch(f"{APIS}/{api_id}", json=patch, headers=MERGE_PATCH)


async def test_post_get_put_and_patch_keep_the_guardrails_in_order_and_the_cache(
    publisher: Publisher,
):
    created = await publisher.create(guardrails=GUARDRAILS, cache=CACHE)
    assert _names(created) == ["no-card-numbers", "json-answers", "mask-emails"]
    fetched = (await publisher.client.get(f"{APIS}/{created['id']}")).json()
    assert fetched["guardrails"] == created["guardrails"]
    assert fetched["guardrails"][1]["params"]["schema"]["$schema"].startswith("https://")
    assert fetched["cache"] == CACHE

    # GET, edit, PUT: the list as sent is the list stored
    fetched["guardrails"] = fetched["guardrails"][::-1]
    put = await publisher.client.put(f"{APIS}/{created['id']}", json=fetched)
    assert put.status_code == 200, put.text
    assert _names(put.json()) == ["mask-emails", "json-answers", "no-card-numbers"]

    patched = await _patch(
        publisher, created["id"], {"cache": {"mode": "exact", "threshold": None}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["cache"] == {
        "mode": "exact",
        "ttlSeconds": 600,
        "threshold": None,
        "scope": "application",
    }
    assert _names(patched.json()) == _names(put.json())

    cleared = await _patch(publisher, created["id"], {"guardrails": [], "cache": None})
    assert (cleared.json()["guardrails"], cleared.json()["cache"]) == ([], None)
    stored = await publisher.app.state.runtime.db["apis"].find_one({"_id": created["id"]})
    assert (stored["guardrails"], stored["cache"]) == ([], None)


REFUSED = [
    (
        [{**GUARDRAILS[0], "params": {"regex": "([a-z]+"}}],
        None,
        "guardrails.0.params.regex",
        "not a valid regex",
    ),
    (
        [GUARDRAILS[0], {"type": "NO_SUCH_GUARDRAIL", "name": "x", "params": {}}],
        None,
        "guardrails.1.type",
        "does not match any of the expected tags",
    ),
    (
        [{"type": "WORD_COUNT_GUARDRAIL", "name": "words", "params": {"min": 1}}],
        None,
        "guardrails.0.params.max",
        "Field required",
    ),
    (
        [{**GUARDRAILS[1], "params": {"schema": {"type": 12}}}],
        None,
        "guardrails.0.params.schema",
        "not a valid JSON Schema",
    ),
    (
        [{**GUARDRAILS[0], "params": {"regex": "x", "jsonPath": "messages"}}],
        None,
        "guardrails.0.params.jsonPath",
        "JSONPath",
    ),
    ([GUARDRAILS[0], GUARDRAILS[0]], None, "guardrails", "must be distinct"),
    ([], {"mode": "exact", "threshold": 0.9}, "cache.threshold", "semantic mode only"),
]


@pytest.mark.parametrize(("guardrails", "cache", "field", "message"), REFUSED)
async def test_an_invalid_definition_is_a_422_naming_the_field_and_nothing_is_stored(
    publisher: Publisher,
    guardrails: list[dict[str, Any]],
    cache: dict[str, Any] | None,
    field: str,
    message: str,
):
    api = await publisher.create(guardrails=GUARDRAILS[2:], cache=CACHE)
    bad = {"guardrails": guardrails, "cache": cache}

    created = await publisher.client.post(APIS, json=publisher.body(context="other", **bad))
    put = await publisher.client.put(f"{APIS}/{api['id']}", json={**api, **bad})
    patched = await _patch(publisher, api["id"], bad)

    for response in (created, put, patched):
        assert response.status_code == 422, response.text
        fields = response.json()["fields"]
        assert set(fields) == {field}, fields
        assert message in fields[field]
    assert (await publisher.client.get(f"{APIS}/{api['id']}")).json() == api
    listed = (await publisher.client.get(APIS)).json()
    assert [each["id"] for each in listed["list"]] == [api["id"]]


async def test_a_deploy_carries_the_guardrails_and_the_cache_in_api_deployed(
    publisher: Publisher,
):
    api = await publisher.create(guardrails=GUARDRAILS, cache=CACHE)
    await publisher.keyless(api["id"])

    async with publisher.expect_event("aigw.api.deployed", api["id"]) as deployed:
        response = await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    assert response.status_code == 201, response.text

    revision = ApiDeployed.from_envelope(await deployed)
    assert [g.name for g in revision.guardrails] == _names(api)
    assert [g.type for g in revision.guardrails] == [g["type"] for g in GUARDRAILS]
    assert (
        revision.guardrails[1].params.model_dump(by_alias=True)["schema"]
        == (GUARDRAILS[1]["params"]["schema"])
    )
    assert revision.cache is not None
    assert revision.cache.model_dump(by_alias=True) == CACHE


async def test_the_openapi_document_describes_guardrails_and_the_cache(publisher: Publisher):
    schemas = (await publisher.client.get("/openapi.json")).json()["components"]["schemas"]
    for name in ("ApiIn", "ApiUpdate", "ApiOut"):
        properties = schemas[name]["properties"]
        assert "REGEX_GUARDRAIL" in properties["guardrails"]["description"]
        assert properties["guardrails"]["examples"][0][0]["type"] == "REGEX_GUARDRAIL"
        assert "semantic" in properties["cache"]["description"]
        assert properties["cache"]["examples"][0]["mode"] == "semantic"
    regex = schemas["RegexGuardrail"]["properties"]
    assert regex["type"]["const"] == "REGEX_GUARDRAIL"
    assert "schema" in schemas["JsonSchemaParams"]["properties"]
