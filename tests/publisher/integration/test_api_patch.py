"""`PATCH /apis/{id}` (JSON merge patch, RFC 7396) changes only what it names, validated and
written as a PUT; a PUT that would drop an endpoint holding a provider key is refused (issue 10)."""

import asyncio
from typing import Any

import pytest

from aigw.common.events import ApiDeployed
from aigw.publisher.apis.lifecycle import TRANSITIONS
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
BACKUP_KEY = "backup-provider-key-0123456789-bkup"
SANDBOX_KEY = "sandbox-provider-key-0123456789-sbox"
ADDITIONAL = {"backup": "https://backup.example.com"}
ROUTING = {
    "production": {
        "targets": [
            {"endpoint": "production", "model": "mistral-small-latest", "weight": 3},
            {"endpoint": "backup", "model": "mistral-medium-latest"},
        ],
        "fallbacks": [{"endpoint": "backup", "model": "mistral-large-latest"}],
        "timeoutSeconds": 10,
    }
}


async def _routed_with_backup_key(publisher: Publisher) -> dict[str, Any]:
    """The README's routing section: an additional endpoint, a routing policy, the backup's key."""
    api = await publisher.create(additionalEndpoints=ADDITIONAL, routing=ROUTING)
    keys = {"backup": {"apiKey": BACKUP_KEY}, "production": None, "sandbox": None}
    stored = await publisher.client.put(f"{APIS}/{api['id']}/backend-security", json=keys)
    assert stored.status_code == 200, stored.text
    current: dict[str, Any] = (await publisher.client.get(f"{APIS}/{api['id']}")).json()
    return current


async def _patch(publisher: Publisher, api_id: str, patch: Any, **kwargs: Any) -> Any:
    headers = kwargs.pop("headers", {})
    return await publisher.client.patch(
        f"{APIS}/{api_id}", json=patch, headers={**MERGE_PATCH, **headers}, **kwargs
    )


async def _updates(publisher: Publisher, api_id: str) -> int:
    events = await stream_events(publisher.settings.nats_url, "aigw.api.updated")
    return sum(1 for event in events if event.subject == api_id)


async def test_patching_the_plans_keeps_routing_the_additional_endpoint_and_its_key(
    publisher: Publisher,
):
    api = await _routed_with_backup_key(publisher)
    patch = {"policies": ["Unlimited", "Gold"], "backendThrottle": {"production": 50}}

    response = await _patch(publisher, api["id"], patch)

    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["policies"] == ["Unlimited", "Gold"]
    assert patched["backendThrottle"] == {"production": 50, "sandbox": None}
    unchanged = ("additionalEndpoints", "routing", "endpoints", "name", "description", "context")
    assert {k: patched[k] for k in unchanged} == {k: api[k] for k in unchanged}
    keys = (await publisher.client.get(f"{APIS}/{api['id']}/backend-security")).json()
    assert keys["backup"] == {"apiKey": "****bkup"}
    events = await stream_events(publisher.settings.nats_url, "aigw.api.updated")
    assert [e for e in events if e.subject == api["id"]][-1].data["policies"] == [
        "Unlimited",
        "Gold",
    ]

    async with publisher.expect_event("aigw.api.deployed", api["id"]) as deployed:
        assert (await publisher.client.post(f"{APIS}/{api['id']}/deploy")).status_code == 201
    snapshot = ApiDeployed.from_envelope(await deployed)
    assert snapshot.endpoints["backup"].api_key_ciphertext is not None
    assert snapshot.routing.production is not None
    assert snapshot.backend_throttle.production == 50


async def test_null_removes_a_field_or_resets_it_to_its_default(publisher: Publisher):
    api = await _routed_with_backup_key(publisher)
    patch = {
        "description": None,
        "routing": {"production": None},
        "additionalEndpoints": {"backup": None},  # removing an endpoint explicitly: its key goes
        "endpoints": {"sandbox": None},
    }

    response = await _patch(publisher, api["id"], patch)

    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["description"] == ""
    assert patched["routing"] == {"production": None, "sandbox": None}
    assert patched["additionalEndpoints"] == {}
    assert patched["endpoints"] == {"production": api["endpoints"]["production"], "sandbox": None}
    keys = (await publisher.client.get(f"{APIS}/{api['id']}/backend-security")).json()
    assert keys == {"production": {"keyless": True}, "sandbox": None}  # production stays keyless
    doc = await publisher.app.state.runtime.db["apis"].find_one({"_id": api["id"]})
    assert "backup" not in doc["backend_security"]


async def test_objects_merge_recursively_and_arrays_replace(publisher: Publisher):
    api = await _routed_with_backup_key(publisher)
    patch = {
        "routing": {"production": {"timeoutSeconds": 5, "fallbacks": []}},
        "endpoints": {"sandbox": "http://127.0.0.1:8091"},
    }

    # application/json is accepted as well as application/merge-patch+json
    response = await publisher.client.patch(f"{APIS}/{api['id']}", json=patch)

    assert response.status_code == 200, response.text
    production = response.json()["routing"]["production"]
    assert production["targets"] == api["routing"]["production"]["targets"]
    assert production["fallbacks"] == []
    assert production["timeoutSeconds"] == 5
    assert production["suspendSeconds"] == api["routing"]["production"]["suspendSeconds"]
    assert response.json()["endpoints"] == {
        "production": api["endpoints"]["production"],
        "sandbox": "http://127.0.0.1:8091",
    }


async def test_concurrent_patches_of_different_fields_all_land(publisher: Publisher):
    api = await publisher.create()
    patches = [
        {"description": "changed concurrently"},
        {"backendThrottle": {"production": 7}},
        {"backendThrottle": {"sandbox": 9}},
    ]
    responses = await asyncio.gather(*(_patch(publisher, api["id"], p) for p in patches))
    assert [r.status_code for r in responses] == [200, 200, 200]
    final = (await publisher.client.get(f"{APIS}/{api['id']}")).json()
    assert final["description"] == "changed concurrently"
    assert final["backendThrottle"] == {"production": 7, "sandbox": 9}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"descripton": "typo"}, "descripton: unknown field"),
        ({"routing": {"production": {"bogus": 1}}}, "routing.production.bogus: unknown field"),
        ({"name": None}, "name: Field required"),
        ({"routing": {"production": {"targets": None}}}, "routing.production.targets: Field"),
        ({"additionalEndpoints": {"backup": None}}, "names endpoints the API does not have"),
        ({"aiVendor": {"name": "NoSuchVendor"}}, "Unknown AI vendor 'NoSuchVendor'"),
        ({"policies": ["NoSuchPlan"]}, "NoSuchPlan"),
        (["not", "an", "object"], "body: Input should be a valid dictionary"),
    ],
)
async def test_an_invalid_patch_is_422_and_stores_nothing(
    publisher: Publisher, patch: Any, message: str
):
    api = await _routed_with_backup_key(publisher)
    before = await _updates(publisher, api["id"])

    response = await _patch(publisher, api["id"], patch)

    assert response.status_code == 422, response.text
    assert message in response.json()["description"]
    assert (await publisher.client.get(f"{APIS}/{api['id']}")).json() == api
    assert await _updates(publisher, api["id"]) == before


async def test_read_only_fields_are_accepted_and_ignored_as_in_put(publisher: Publisher):
    api = await publisher.create()
    patch = {"lifecycleStatus": "PUBLISHED", "owner": "mallory", "description": "v2"}
    response = await _patch(publisher, api["id"], patch)
    assert response.status_code == 200, response.text
    assert response.json()["lifecycleStatus"] == "CREATED"
    assert response.json()["owner"] == api["owner"]
    assert response.json()["description"] == "v2"


async def test_other_media_types_are_refused(publisher: Publisher):
    api = await publisher.create()
    for media_type in ("text/plain", "application/json-patch+json"):
        response = await publisher.client.patch(
            f"{APIS}/{api['id']}",
            content=b'{"description": "x"}',
            headers={"Content-Type": media_type},
        )
        assert response.status_code == 415, response.text
        assert "application/merge-patch+json" in response.json()["description"]
    assert (await publisher.client.get(f"{APIS}/{api['id']}")).json() == api


async def test_only_owners_co_owners_and_admins_may_patch(publisher: Publisher, signer: TestSigner):
    alice = signer.auth("alice", ("publisher",))
    carol = signer.auth("carol", ("publisher",))
    bob = signer.auth("bob", ("publisher",))
    created = await publisher.client.post(
        APIS, json=publisher.body(coOwners=["carol"]), headers=alice
    )
    api = created.json()

    other = await _patch(publisher, api["id"], {"description": "bob's"}, headers=bob)
    assert other.status_code == 404
    assert other.json()["description"] == f"No API with id '{api['id']}'"
    assert (await publisher.client.get(f"{APIS}/{api['id']}")).json()["description"] == (
        api["description"]
    )
    co_owner = await _patch(publisher, api["id"], {"description": "carol's"}, headers=carol)
    assert co_owner.status_code == 200
    taking_over = await _patch(publisher, api["id"], {"coOwners": ["carol", "bob"]}, headers=carol)
    assert taking_over.status_code == 403  # only the owner or an admin changes the co-owners
    admin = await _patch(publisher, api["id"], {"description": "the admin's"})
    assert admin.status_code == 200


# --- PUT no longer drops a keyed endpoint silently -----------------------------------------


async def test_a_put_that_drops_an_endpoint_with_a_key_is_refused(publisher: Publisher):
    api = await _routed_with_backup_key(publisher)
    before = await _updates(publisher, api["id"])

    response = await publisher.client.put(
        f"{APIS}/{api['id']}", json=publisher.body(policies=["Unlimited", "Gold"])
    )

    assert response.status_code == 409, response.text
    description = response.json()["description"]
    assert "'backup'" in description
    assert 'PUT .../backend-security {"backup": null}' in description
    assert "PATCH" in description
    assert (await publisher.client.get(f"{APIS}/{api['id']}")).json() == api
    keys = (await publisher.client.get(f"{APIS}/{api['id']}/backend-security")).json()
    assert keys["backup"] == {"apiKey": "****bkup"}
    assert await _updates(publisher, api["id"]) == before


async def test_a_put_that_drops_a_keyed_sandbox_is_refused(publisher: Publisher):
    api = await publisher.create()
    keys = {"sandbox": {"apiKey": SANDBOX_KEY}}
    await publisher.client.put(f"{APIS}/{api['id']}/backend-security", json=keys)
    production_only = publisher.body(endpoints={"production": api["endpoints"]["production"]})

    response = await publisher.client.put(f"{APIS}/{api['id']}", json=production_only)

    assert response.status_code == 409, response.text
    assert "'sandbox'" in response.json()["description"]
    # removing the key first makes the same PUT go through
    await publisher.client.put(f"{APIS}/{api['id']}/backend-security", json={"sandbox": None})
    response = await publisher.client.put(f"{APIS}/{api['id']}", json=production_only)
    assert response.status_code == 200, response.text
    assert response.json()["endpoints"]["sandbox"] is None


# --- the OpenAPI document ------------------------------------------------------------------


def test_the_openapi_document_describes_the_patch(publisher: Publisher) -> None:
    operation = publisher.app.openapi()["paths"][f"{APIS}/{{api_id}}"]["patch"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/merge-patch+json", "application/json"}
    examples = content["application/merge-patch+json"]["examples"]
    assert any("routing" in example["value"] for example in examples.values())
    assert "RFC 7396" in operation["description"]
    removal = '{"routing": {"production": null}, "additionalEndpoints": {"backup": null}}'
    assert removal in operation["description"]
    assert {"200", "404", "409", "415", "422"} <= set(operation["responses"])


def test_the_openapi_document_lists_the_lifecycle_actions(publisher: Publisher) -> None:
    schemas = publisher.app.openapi()["components"]["schemas"]
    action = schemas["LifecycleIn"]["properties"]["action"]
    action = schemas[action["$ref"].rsplit("/", 1)[1]] if "$ref" in action else action
    assert action["enum"] == list(TRANSITIONS)
    description = schemas["LifecycleIn"]["properties"]["action"].get("description", "") + (
        action.get("description", "")
    )
    for name, transition in TRANSITIONS.items():
        assert f"`{name}`" in description
        assert transition.target in description
