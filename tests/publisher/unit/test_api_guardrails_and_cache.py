"""An API's guardrails and response cache, over in-memory documents: stored as sent, read
back in order, carried by the deployed revision; a definition that does not validate is a
422 naming the field as the request put it, and changes nothing."""

from typing import Any

import pytest
from pydantic import ValidationError

from aigw.common.errors import InvalidInput, validation_fields
from aigw.publisher.apis.schemas import ApiIn, ApiOut, BackendSecurityIn
from tests.support.publisher_memory import MemoryPublisher, actor, api_body

OWNER = actor("alice")

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["answer"],
    "properties": {"answer": {"type": "string"}},
}
GUARDRAILS: list[dict[str, Any]] = [
    {
        "type": "REGEX_GUARDRAIL",
        "name": "no-secrets",
        "flow": "both",
        "params": {"regex": r"(?i)secret", "invert": True, "showAssessment": True},
    },
    {
        "type": "JSON_SCHEMA_GUARDRAIL",
        "name": "json-answers",
        "flow": "response",
        "params": {"schema": SCHEMA, "jsonPath": "$.choices[0].message.content"},
    },
    {"type": "URL_GUARDRAIL", "name": "live-links", "params": {"onlyDNS": True, "timeout": 500}},
    {
        "type": "PROMPT_DECORATOR",
        "name": "be-brief",
        "params": {"decoration": [{"role": "system", "content": "Answer in one sentence."}]},
    },
]
CACHE = {"mode": "semantic", "ttlSeconds": 600, "threshold": 0.92, "scope": "api"}


async def _deployable(publisher: MemoryPublisher, **overrides: Any) -> str:
    doc = await publisher.apis.create(api_body(**overrides), OWNER)
    keyless = BackendSecurityIn.model_validate({"production": None, "sandbox": None})
    await publisher.apis.set_backend_security(doc["_id"], keyless, OWNER)
    return doc["_id"]


def _wire(doc: Any) -> dict[str, Any]:
    out: dict[str, Any] = ApiOut.from_doc(doc).model_dump(mode="json", by_alias=True)
    return out


async def test_guardrails_and_cache_are_stored_in_order_and_read_back_as_sent(
    publisher: MemoryPublisher,
):
    doc = await publisher.apis.create(api_body(guardrails=GUARDRAILS, cache=CACHE), OWNER)
    out = _wire(await publisher.apis.get(doc["_id"], OWNER))

    assert [g["name"] for g in out["guardrails"]] == [g["name"] for g in GUARDRAILS]
    assert out["guardrails"][0]["params"]["regex"] == r"(?i)secret"
    assert out["guardrails"][1]["params"]["schema"] == SCHEMA  # WSO2's name, `$schema` kept
    assert out["guardrails"][2]["params"] == {
        "jsonPath": None,
        "onlyDNS": True,
        "timeout": 500,
        "showAssessment": False,
    }
    assert out["guardrails"][3]["flow"] == "request"  # a decorator's only flow
    assert out["cache"] == CACHE


async def test_an_api_has_no_guardrails_and_no_cache_unless_given(publisher: MemoryPublisher):
    doc = await publisher.apis.create(api_body(), OWNER)
    publisher.api_docs.coll.docs[doc["_id"]].pop("guardrails")  # stored before they existed
    publisher.api_docs.coll.docs[doc["_id"]].pop("cache")
    out = _wire(await publisher.apis.get(doc["_id"], OWNER))
    assert (out["guardrails"], out["cache"]) == ([], None)


async def test_a_patch_replaces_the_list_merges_the_cache_and_null_removes_it(
    publisher: MemoryPublisher,
):
    api_id = (await publisher.apis.create(api_body(guardrails=GUARDRAILS, cache=CACHE), OWNER))[
        "_id"
    ]
    doc = await publisher.apis.patch(
        api_id, {"guardrails": GUARDRAILS[2:0:-1], "cache": {"ttlSeconds": 60}}, OWNER
    )
    out = _wire(doc)
    assert [g["name"] for g in out["guardrails"]] == ["live-links", "json-answers"]
    assert out["cache"] == {**CACHE, "ttlSeconds": 60}

    out = _wire(await publisher.apis.patch(api_id, {"guardrails": None, "cache": None}, OWNER))
    assert (out["guardrails"], out["cache"]) == ([], None)


BAD_PATCHES = [
    (
        {"guardrails": [{**GUARDRAILS[0], "params": {"regex": "(unclosed"}}]},
        "guardrails.0.params.regex",
        "not a valid regex",
    ),
    (
        {"guardrails": [GUARDRAILS[0], {"type": "TOXICITY", "name": "x", "params": {}}]},
        "guardrails.1.type",
        "TOXICITY",
    ),
    ({"guardrails": [{"name": "x", "params": {}}]}, "guardrails.0.type", "discriminator"),
    (
        {"guardrails": [{**GUARDRAILS[0], "params": {"invert": True}}]},
        "guardrails.0.params.regex",
        "Field required",
    ),
    (
        {"guardrails": [{**GUARDRAILS[1], "params": {"schema": {"type": "strin"}}}]},
        "guardrails.0.params.schema",
        "not a valid JSON Schema",
    ),
    (
        {"guardrails": [{**GUARDRAILS[0], "params": {"regex": "a", "jsonPath": "$..["}}]},
        "guardrails.0.params.jsonPath",
        "JSONPath",
    ),
    (
        {
            "guardrails": [
                {
                    "type": "PII_MASKING_REGEX",
                    "name": "pii",
                    "params": {"piiEntities": [{"piiEntity": "EMAIL", "piiRegex": "[a-"}]},
                }
            ]
        },
        "guardrails.0.params.piiEntities.0.piiRegex",
        "not a valid regex",
    ),
    ({"guardrails": [GUARDRAILS[0], GUARDRAILS[0]]}, "guardrails", "distinct: no-secrets"),
    ({"cache": {"mode": "exact", "threshold": 0.8}}, "cache.threshold", "semantic mode only"),
    ({"cache": {"mode": "fuzzy"}}, "cache.mode", "'exact' or 'semantic'"),
    ({"cache": {"mode": "exact", "ttl": 5}}, "cache.ttl", "unknown field"),
]


@pytest.mark.parametrize(("patch", "field", "message"), BAD_PATCHES)
async def test_a_patch_that_does_not_validate_names_the_field_and_changes_nothing(
    publisher: MemoryPublisher, patch: dict[str, Any], field: str, message: str
):
    api_id = (await publisher.apis.create(api_body(guardrails=GUARDRAILS[:1]), OWNER))["_id"]
    before = await publisher.apis.get(api_id, OWNER)
    events = len(publisher.events())

    with pytest.raises(InvalidInput) as refused:
        await publisher.apis.patch(api_id, patch, OWNER)

    assert set(refused.value.fields or {}) == {field}
    assert message in (refused.value.fields or {})[field]
    assert await publisher.apis.get(api_id, OWNER) == before
    assert len(publisher.events()) == events


@pytest.mark.parametrize(("patch", "field", "message"), BAD_PATCHES)
def test_a_body_that_does_not_validate_names_the_same_field(
    patch: dict[str, Any], field: str, message: str
):
    """POST and PUT bodies are validated by FastAPI, whose error paths are made the same way
    (the request's own `body` prefix left out)."""
    body = {**api_body().model_dump(mode="json", by_alias=True), **patch}
    with pytest.raises(ValidationError) as refused:
        ApiIn.model_validate(body)
    errors = [{**err, "loc": ("body", *err["loc"])} for err in refused.value.errors()]
    assert set(validation_fields(errors, body)) == {field}


async def test_a_deploy_carries_the_guardrails_and_the_cache_to_the_gateways(
    publisher: MemoryPublisher,
):
    api_id = await _deployable(publisher, guardrails=GUARDRAILS, cache=CACHE)
    await publisher.apis.deploy(api_id, OWNER)
    [deployed] = publisher.events("aigw.api.deployed")
    guardrails = deployed.data["guardrails"]
    assert [(g["type"], g["name"]) for g in guardrails] == [
        (g["type"], g["name"]) for g in GUARDRAILS
    ]
    assert guardrails[1]["params"]["json_schema"] == SCHEMA
    assert deployed.data["cache"] == {
        "mode": "semantic",
        "ttl_seconds": 600,
        "threshold": 0.92,
        "scope": "api",
    }

    await publisher.apis.patch(api_id, {"guardrails": [], "cache": None}, OWNER)
    await publisher.apis.deploy(api_id, OWNER)
    latest = publisher.events("aigw.api.deployed")[-1]
    assert (latest.data["guardrails"], latest.data["cache"]) == ([], None)
