"""Custom AI vendors: created, changed and deleted by admins, read by publishers, used by APIs
(the deployed revision carries the vendor's definition as it was at deploy time)."""

from typing import Any

import pytest

from aigw.common.events import ApiDeployed, Envelope, VendorChanged
from aigw.common.vendors import VendorDefinition
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.tokens import TestSigner
from tests.support.vendors import vendor_body

pytestmark = pytest.mark.integration

VENDORS = f"{API_PREFIX}/ai-vendors"
APIS = f"{API_PREFIX}/apis"


@pytest.fixture
def acme(unique: str) -> str:
    """A vendor name of this test's own: events of every test share one stream."""
    return f"Acme-{unique}"


async def _create(publisher: Publisher, body: dict[str, Any]) -> dict[str, Any]:
    response = await publisher.client.post(VENDORS, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _vendor_events(publisher: Publisher, subject: str) -> list[VendorChanged]:
    events = await stream_events(publisher.settings.nats_url, "aigw.vendor.changed")
    return [VendorChanged.from_envelope(e) for e in events if e.subject == subject]


async def test_an_admin_creates_a_vendor_that_is_listed_after_the_built_ins(
    publisher: Publisher, acme: str
):
    body = vendor_body(acme)
    async with publisher.expect_event("aigw.vendor.changed", f"{acme}/v1") as changed_event:
        response = await publisher.client.post(VENDORS, json=body)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{VENDORS}/{acme}/v1"
    created = response.json()
    assert created["builtIn"] is False
    definition = VendorDefinition.model_validate(body)
    assert created == {**definition.model_dump(mode="json", by_alias=True), "builtIn": False}
    assert created["metadata"]["responseModel"] is None  # unset attributes are null
    assert created["auth"] == {"type": "header", "name": "x-acme-key", "valuePrefix": ""}

    listed = (await publisher.client.get(VENDORS)).json()
    assert listed["count"] == 5
    assert [v["builtIn"] for v in listed["list"]] == [True, True, True, True, False]
    assert listed["list"][-1] == created
    assert (await publisher.client.get(f"{VENDORS}/{acme}/v1")).json() == created

    event = await changed_event
    changed = VendorChanged.from_envelope(event)
    assert changed.action == "created"
    assert changed.vendor == definition.spec()
    assert changed.api_definition == definition.api_definition  # the Developer Portal's Try Out
    assert event.actor == "admin"


async def test_a_vendor_is_stored_whole_even_with_keys_a_document_cannot_hold(
    publisher: Publisher, acme: str
):
    api_definition = {
        "openapi": "3.0.3",
        "paths": {"/v1/x": {"post": {"$ref": "#/components/x"}}},
        "components": {"x": {"a.b": 1}},
    }
    body = vendor_body(acme, apiDefinition=api_definition, defaultHeaders={"x.$odd": "1"})
    created = await _create(publisher, body)
    assert created["apiDefinition"] == api_definition
    fetched = (await publisher.client.get(f"{VENDORS}/{acme}/v1")).json()
    assert fetched["apiDefinition"] == api_definition
    assert fetched["defaultHeaders"] == {"x.$odd": "1"}


async def test_the_name_and_version_of_a_built_in_or_an_existing_vendor_are_taken(
    publisher: Publisher, acme: str
):
    built_in = await publisher.client.post(VENDORS, json=vendor_body("OpenAI"))
    assert built_in.status_code == 409
    assert "built in and read-only" in built_in.json()["description"]

    await _create(publisher, vendor_body(acme))
    again = await publisher.client.post(VENDORS, json=vendor_body(acme))
    assert again.status_code == 409
    assert "already exists" in again.json()["description"]
    other_version = await publisher.client.post(VENDORS, json=vendor_body(acme, version="v2"))
    assert other_version.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "metadata": {
                    "promptTokenCount": {"inputSource": "payload", "attributeIdentifier": "usage"}
                }
            },
            "metadata.promptTokenCount: Value error, JSONPath 'usage' must start with '$'",
        ),
        (
            {
                "metadata": {
                    "requestModel": {"inputSource": "cookie", "attributeIdentifier": "model"}
                }
            },
            "metadata.requestModel.inputSource: Input should be 'payload', 'header' or",
        ),
        (
            {
                "metadata": {
                    "totalTokenCount": {
                        "inputSource": "queryParameter",
                        "attributeIdentifier": "total",
                    }
                }
            },
            "total_token_count: a response has no query parameters",
        ),
        (
            {"auth": {"type": "header", "name": "x key"}},
            "auth: Value error, 'x key' is not a valid HTTP header name",
        ),
        ({"defaultHeaders": {"Content-Type": "x"}}, "the header 'Content-Type' is reserved"),
        ({"stream": {"content": "$..text"}}, "stream.content: Value error"),
        ({"version": ""}, "version: String should match pattern"),
        ({"apiDefinition": {"openapi": "3.0.3"}}, "apiDefinition must have 'paths'"),
        ({"apiDefinition": None}, "apiDefinition must list at least one operation"),
        (
            {"apiDefinition": {"openapi": "3.0.3", "paths": {"/v1/x": {"summary": "none"}}}},
            "apiDefinition must list at least one operation",
        ),
        (
            {"apiDefinition": {"openapi": "3.0.3", "paths": {"/v1/m-{id}": {"get": {}}}}},
            "a parameter must be a whole segment",
        ),
        ({"callerHeaders": ["Cookie"]}, "the header 'Cookie' is never forwarded from a caller"),
        ({"callerHeaders": ["X-Forwarded-For"]}, "'X-Forwarded-For' is never forwarded"),
        ({"callerHeaders": ["X-Acme-Key"]}, "callerHeaders must not name the header that carries"),
    ],
)
async def test_an_invalid_definition_is_refused_with_pydantics_message(
    publisher: Publisher, acme: str, overrides: dict[str, Any], message: str
):
    response = await publisher.client.post(VENDORS, json=vendor_body(acme, **overrides))
    assert response.status_code == 422, response.text
    assert response.json()["message"] == "Invalid input"
    assert message in response.json()["description"]
    assert (await publisher.client.get(f"{VENDORS}/{acme}/v1")).status_code == 404


async def test_a_vendor_cannot_be_changed_to_one_without_operations(
    publisher: Publisher, acme: str
):
    await _create(publisher, vendor_body(acme))
    empty = vendor_body(acme, apiDefinition={"openapi": "3.0.3", "paths": {}})
    response = await publisher.client.put(f"{VENDORS}/{acme}/v1", json=empty)
    assert response.status_code == 422, response.text
    assert "at least one operation" in response.json()["description"]
    kept = (await publisher.client.get(f"{VENDORS}/{acme}/v1")).json()
    assert kept["apiDefinition"]["paths"] == {"/v1/generate": {"post": {}}}


async def test_an_admin_replaces_a_custom_vendor(publisher: Publisher, acme: str):
    def replaced(event: Envelope) -> bool:
        return VendorChanged.from_envelope(event).action == "updated"

    async with publisher.expect_event(
        "aigw.vendor.changed", f"{acme}/v1", where=replaced
    ) as changes:
        await _create(publisher, vendor_body(acme))
        changed = vendor_body(
            acme, description="v2", auth={"type": "queryParameter", "name": "key"}
        )
        response = await publisher.client.put(f"{VENDORS}/{acme}/v1", json=changed)
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "v2"
    assert response.json()["auth"] == {"type": "queryParameter", "name": "key", "valuePrefix": ""}
    assert (await publisher.client.get(f"{VENDORS}/{acme}/v1")).json() == response.json()

    events = [VendorChanged.from_envelope(e) for e in changes.seen if e.subject == f"{acme}/v1"]
    assert [e.action for e in events] == ["created", "updated"]
    assert events[-1].vendor.auth.type == "queryParameter"


async def test_replacing_refuses_built_ins_unknown_vendors_and_renames(
    publisher: Publisher, acme: str
):
    built_in = await publisher.client.put(f"{VENDORS}/OpenAI/v1", json=vendor_body("OpenAI"))
    assert built_in.status_code == 409
    assert "read-only" in built_in.json()["description"]

    unknown = await publisher.client.put(f"{VENDORS}/{acme}/v1", json=vendor_body(acme))
    assert unknown.status_code == 404
    assert "known vendors" in unknown.json()["description"]

    await _create(publisher, vendor_body(acme))
    renamed = await publisher.client.put(f"{VENDORS}/{acme}/v1", json=vendor_body(f"{acme}x"))
    assert renamed.status_code == 422
    assert "cannot change" in renamed.json()["description"]
    other_version = vendor_body(acme, version="v2")
    assert (await publisher.client.put(f"{VENDORS}/{acme}/v1", json=other_version)).status_code == (
        422
    )
    invalid = vendor_body(acme, auth={"type": "unsecured", "name": "x"})
    response = await publisher.client.put(f"{VENDORS}/{acme}/v1", json=invalid)
    assert response.status_code == 422
    assert "an unsecured vendor takes no name" in response.json()["description"]


async def test_an_admin_deletes_an_unused_vendor(publisher: Publisher, acme: str):
    await _create(publisher, vendor_body(acme))
    response = await publisher.client.delete(f"{VENDORS}/{acme}/v1")
    assert response.status_code == 204
    assert (await publisher.client.get(f"{VENDORS}/{acme}/v1")).status_code == 404
    assert (await publisher.client.delete(f"{VENDORS}/{acme}/v1")).status_code == 404
    assert (await publisher.client.get(VENDORS)).json()["count"] == 4

    await _create(publisher, vendor_body(acme))  # the name and version are free again
    events = await _vendor_events(publisher, f"{acme}/v1")
    assert [e.action for e in events] == ["created", "deleted", "created"]


async def test_deleting_refuses_built_ins_unknown_vendors_and_vendors_in_use(
    publisher: Publisher, acme: str
):
    built_in = await publisher.client.delete(f"{VENDORS}/MistralAI/v1")
    assert built_in.status_code == 409
    assert "read-only" in built_in.json()["description"]
    assert (await publisher.client.delete(f"{VENDORS}/{acme}/v1")).status_code == 404

    await _create(publisher, vendor_body(acme))
    api = await publisher.create(aiVendor={"name": acme, "version": "v1"})
    in_use = await publisher.client.delete(f"{VENDORS}/{acme}/v1")
    assert in_use.status_code == 409
    assert f"'{publisher.name}' ({api['id']})" in in_use.json()["description"]

    assert (await publisher.client.delete(f"{APIS}/{api['id']}")).status_code == 204
    assert (await publisher.client.delete(f"{VENDORS}/{acme}/v1")).status_code == 204


async def test_only_admins_write_vendors_and_publishers_read_them(
    publisher: Publisher, signer: TestSigner, acme: str
):
    await _create(publisher, vendor_body(acme))
    as_publisher = signer.auth(subject="pub", roles=("publisher",))
    for method, path in [
        ("POST", VENDORS),
        ("PUT", f"{VENDORS}/{acme}/v1"),
        ("DELETE", f"{VENDORS}/{acme}/v1"),
    ]:
        response = await publisher.client.request(
            method, path, json=vendor_body(acme), headers=as_publisher
        )
        assert response.status_code == 403, (method, path)
    read = await publisher.client.get(f"{VENDORS}/{acme}/v1", headers=as_publisher)
    assert read.status_code == 200
    as_subscriber = signer.auth(subject="dev", roles=("subscriber",))
    assert (await publisher.client.get(VENDORS, headers=as_subscriber)).status_code == 403


async def test_an_api_on_a_custom_vendor_deploys_the_definition_of_deploy_time(
    publisher: Publisher, acme: str
):
    await _create(publisher, vendor_body(acme))
    unknown = await publisher.client.post(
        APIS, json=publisher.body(aiVendor={"name": acme, "version": "v9"})
    )
    assert unknown.status_code == 422
    assert f"{acme} v1" in unknown.json()["description"]  # the known vendors, custom ones too

    api = await publisher.create(aiVendor={"name": acme, "version": "v1"})
    assert api["aiVendor"] == {"name": acme, "version": "v1"}
    await publisher.keyless(api["id"])
    assert (await publisher.client.post(f"{APIS}/{api['id']}/deploy")).status_code == 201

    changed = vendor_body(acme, defaultHeaders={"acme-version": "2026-01-01"})
    assert (await publisher.client.put(f"{VENDORS}/{acme}/v1", json=changed)).status_code == 200
    assert (await publisher.client.post(f"{APIS}/{api['id']}/deploy")).status_code == 201

    events = await stream_events(publisher.settings.nats_url, "aigw.api.deployed")
    revisions = [ApiDeployed.from_envelope(e) for e in events if e.subject == api["id"]]
    assert [r.revision for r in revisions] == [1, 2]
    assert revisions[0].vendor == VendorDefinition.model_validate(vendor_body(acme)).spec()
    assert revisions[1].vendor == VendorDefinition.model_validate(changed).spec()
    assert revisions[1].vendor.default_headers == {"acme-version": "2026-01-01"}
