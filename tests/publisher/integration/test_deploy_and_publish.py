import asyncio

import pytest

from aigw.common.crypto import SecretBox, provider_key_context
from aigw.common.events import ApiDeployed, ApiPublished, Envelope
from aigw.common.model_routing import ApiRouting
from aigw.common.vendors import builtin_spec
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.vendors import vendor_body

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"
PROD_KEY = "mistral-prod-key-0123456789-WXYZ"
SANDBOX_KEY = "mistral-sandbox-key-9876543210-abcd"


async def test_backend_keys_are_masked_and_only_ciphertext_is_stored_or_sent(
    publisher: Publisher, secret_key: str
):
    api = await publisher.create()
    url = f"{APIS}/{api['id']}/backend-security"
    response = await publisher.client.put(url, json={"production": {"apiKey": PROD_KEY}})
    assert response.status_code == 200
    assert response.json() == {"production": {"apiKey": "****WXYZ"}, "sandbox": None}

    # Omitted = unchanged.
    response = await publisher.client.put(url, json={"sandbox": {"apiKey": SANDBOX_KEY}})
    masked = {"production": {"apiKey": "****WXYZ"}, "sandbox": {"apiKey": "****abcd"}}
    assert response.json() == masked
    assert (await publisher.client.get(url)).json() == masked
    whole = await publisher.client.get(f"{APIS}/{api['id']}")
    assert PROD_KEY not in whole.text

    doc = await publisher.app.state.runtime.db["apis"].find_one({"_id": api["id"]})
    assert PROD_KEY not in str(doc)
    assert SANDBOX_KEY not in str(doc)

    async with publisher.expect_event("aigw.api.deployed", api["id"]) as deployed_event:
        deployed = await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    assert deployed.status_code == 201
    event = await deployed_event
    assert PROD_KEY not in event.model_dump_json()
    snapshot = ApiDeployed.from_envelope(event)
    assert snapshot.production is not None
    assert snapshot.sandbox is not None

    box = SecretBox(secret_key)
    production = snapshot.production.api_key_ciphertext
    assert production is not None
    assert production == doc["backend_security"]["production"]["ciphertext"]
    assert (
        box.decrypt(
            production, provider_key_context(api["id"], "production", snapshot.production.url)
        )
        == PROD_KEY
    )
    sandbox = snapshot.sandbox.api_key_ciphertext
    assert sandbox is not None
    assert (
        box.decrypt(sandbox, provider_key_context(api["id"], "sandbox", snapshot.sandbox.url))
        == SANDBOX_KEY
    )

    # No event on the stream carries the plaintext.
    for envelope in await stream_events(publisher.settings.nats_url):
        if envelope.subject == api["id"]:
            assert PROD_KEY not in envelope.model_dump_json()


async def test_deploy_twice_gives_revisions_one_and_two(publisher: Publisher):
    api = await publisher.create()
    await publisher.keyless(api["id"])
    first = await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    second = await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    assert first.json()["revision"] == 1
    assert second.json()["revision"] == 2
    assert "deployedTime" in second.json()

    fetched = (await publisher.client.get(f"{APIS}/{api['id']}")).json()
    assert fetched["hasDeployment"] is True
    assert fetched["deployedRevision"] == 2

    events = await stream_events(publisher.settings.nats_url, "aigw.api.deployed")
    snapshots = [ApiDeployed.from_envelope(e) for e in events if e.subject == api["id"]]
    assert [s.revision for s in snapshots] == [1, 2]
    assert snapshots[0].route_prefix == "mistralaiapi/0.0.2"
    assert snapshots[0].vendor == builtin_spec("MistralAI", "v1")
    assert snapshots[0].vendor.auth.name == "Authorization"
    assert snapshots[0].vendor.auth.value_prefix == "Bearer "
    assert snapshots[0].endpoints == {}
    assert snapshots[0].routing == ApiRouting()
    assert snapshots[0].production is not None
    assert snapshots[0].production.url == "https://api.mistral.ai"
    assert snapshots[0].production.api_key_ciphertext is None


async def test_undeploy(publisher: Publisher):
    api = await publisher.create()
    not_deployed = await publisher.client.post(f"{APIS}/{api['id']}/undeploy")
    assert not_deployed.status_code == 409
    await publisher.keyless(api["id"])
    await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    async with publisher.expect_event("aigw.api.undeployed", api["id"]) as undeployed:
        response = await publisher.client.post(f"{APIS}/{api['id']}/undeploy")
    assert response.status_code == 200
    assert response.json()["undeployedRevision"] == 1
    event = await undeployed
    assert event.data["revision"] == 1  # the gateway drops this revision, not a later one
    fetched = (await publisher.client.get(f"{APIS}/{api['id']}")).json()
    assert fetched["hasDeployment"] is False


async def test_publish_puts_created_deployed_published_on_the_stream(publisher: Publisher):
    def published(event: Envelope) -> bool:
        return event.type == "aigw.api.published"

    async with publisher.expect_event("aigw.api.*", where=published) as api_events:
        api = await publisher.create(context="{version}/mistralaiapi")
        api_events.about(api["id"])
        await publisher.keyless(api["id"])
        await publisher.client.post(f"{APIS}/{api['id']}/deploy")
        response = await publisher.client.post(
            f"{APIS}/{api['id']}/lifecycle", json={"action": "publish"}
        )
    assert response.status_code == 200
    assert response.json()["lifecycleStatus"] == "PUBLISHED"
    assert (await publisher.client.get(f"{APIS}/{api['id']}")).json()[
        "lifecycleStatus"
    ] == "PUBLISHED"

    mine = [e for e in api_events.seen if e.subject == api["id"]]
    assert [e.type for e in mine] == [
        "aigw.api.created",
        "aigw.api.updated",  # the provider keys set to null
        "aigw.api.deployed",
        "aigw.api.published",
    ]
    published = ApiPublished.from_envelope(mine[-1])
    assert published.route_prefix == "0.0.2/mistralaiapi"
    assert published.description == "Mistral through the gateway"
    assert published.vendor.name == "MistralAI"


async def test_updating_a_published_api_keeps_it_published_in_the_event(publisher: Publisher):
    api = await publisher.create()
    await publisher.keyless(api["id"])
    await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    await publisher.client.post(f"{APIS}/{api['id']}/lifecycle", json={"action": "publish"})
    async with publisher.expect_event("aigw.api.updated", api["id"]) as updated:
        await publisher.client.put(f"{APIS}/{api['id']}", json=publisher.body(description="v2"))
    event = await updated
    assert event.data["lifecycle_status"] == "PUBLISHED"
    assert event.data["description"] == "v2"
    assert event.data["context"] == "mistralaiapi"


async def test_demote_and_bad_actions(publisher: Publisher):
    api = await publisher.create()
    lifecycle = f"{APIS}/{api['id']}/lifecycle"
    unknown = await publisher.client.post(lifecycle, json={"action": "retire"})
    assert unknown.status_code == 422
    assert "action: Input should be 'publish' or 'demote'" in unknown.json()["description"]
    early = await publisher.client.post(lifecycle, json={"action": "demote"})
    assert early.status_code == 409

    await publisher.keyless(api["id"])
    await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    await publisher.client.post(lifecycle, json={"action": "publish"})
    demoted = await publisher.client.post(lifecycle, json={"action": "demote"})
    assert demoted.json()["lifecycleStatus"] == "CREATED"
    events = await stream_events(publisher.settings.nats_url, "aigw.api.updated")
    mine = [e for e in events if e.subject == api["id"]]
    assert mine[-1].data["lifecycle_status"] == "CREATED"


async def test_concurrent_deploys_get_distinct_revisions(publisher: Publisher):
    api = await publisher.create()
    await publisher.keyless(api["id"])
    responses = await asyncio.gather(
        *(publisher.client.post(f"{APIS}/{api['id']}/deploy") for _ in range(3))
    )
    assert sorted(r.json()["revision"] for r in responses) == [1, 2, 3]
    events = await stream_events(publisher.settings.nats_url, "aigw.api.deployed")
    assert sorted(e.data["revision"] for e in events if e.subject == api["id"]) == [1, 2, 3]


async def test_deploy_without_a_provider_key_is_refused_naming_the_endpoints(
    publisher: Publisher,
):
    """A vendor that takes a key, and endpoints with none set: the provider would answer
    every call 401, which callers would read as their own key being wrong."""
    api = await publisher.create(additionalEndpoints={"backup": "https://backup.example.com"})
    security = f"{APIS}/{api['id']}/backend-security"
    await publisher.client.put(security, json={"production": {"apiKey": PROD_KEY}})

    refused = await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    assert refused.status_code == 409, refused.text
    error = refused.json()
    assert error["code"] == 409
    assert "endpoints 'sandbox', 'backup' have no provider key" in error["description"]
    assert "'production'" not in error["description"]
    assert f"PUT /apis/{api['id']}/backend-security" in error["description"]
    fetched = (await publisher.client.get(f"{APIS}/{api['id']}")).json()
    assert fetched["hasDeployment"] is False

    # A key for one and a deliberate null (no provider key) for the other: deployable.
    await publisher.client.put(security, json={"backup": {"apiKey": SANDBOX_KEY}, "sandbox": None})
    assert (await publisher.client.get(security)).json()["sandbox"] == {"keyless": True}
    async with publisher.expect_event("aigw.api.deployed", api["id"]) as deployed_event:
        deployed = await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    assert deployed.status_code == 201, deployed.text
    event = await deployed_event
    snapshot = ApiDeployed.from_envelope(event)
    assert snapshot.sandbox is not None
    assert snapshot.sandbox.api_key_ciphertext is None
    assert snapshot.endpoints["backup"].api_key_ciphertext is not None


async def test_a_keyless_endpoint_moved_to_another_origin_needs_the_choice_again(
    publisher: Publisher,
):
    """null is a decision for one origin, as a key is: the endpoint moved elsewhere must not
    go keyless there without being asked."""
    api = await publisher.create()
    security = f"{APIS}/{api['id']}/backend-security"
    await publisher.client.put(security, json={"production": {"apiKey": PROD_KEY}, "sandbox": None})
    assert (await publisher.client.post(f"{APIS}/{api['id']}/deploy")).status_code == 201

    moved = publisher.body(
        endpoints={"production": "https://api.mistral.ai/v1", "sandbox": "http://127.0.0.2:9"}
    )
    assert (await publisher.client.put(f"{APIS}/{api['id']}", json=moved)).status_code == 200
    refused = await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    assert refused.status_code == 409, refused.text
    assert "'sandbox'" in refused.json()["description"]
    assert "'production'" not in refused.json()["description"]  # same origin: key kept

    await publisher.client.put(security, json={"sandbox": None})
    assert (await publisher.client.post(f"{APIS}/{api['id']}/deploy")).status_code == 201


async def test_an_unsecured_vendor_deploys_without_keys(publisher: Publisher):
    vendor = vendor_body(f"Local-{publisher.name}", auth={"type": "unsecured"})
    created = await publisher.client.post(f"{API_PREFIX}/ai-vendors", json=vendor)
    assert created.status_code == 201, created.text
    api = await publisher.create(aiVendor={"name": vendor["name"], "version": "v1"})
    deployed = await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    assert deployed.status_code == 201, deployed.text


async def test_publishing_an_api_that_is_not_deployed_is_refused(publisher: Publisher):
    api = await publisher.create()
    lifecycle = f"{APIS}/{api['id']}/lifecycle"
    never = await publisher.client.post(lifecycle, json={"action": "publish"})
    assert never.status_code == 409, never.text
    assert set(never.json()) == {"code", "message", "description"}
    assert "Deploy it first" in never.json()["description"]
    assert f"POST /apis/{api['id']}/deploy" in never.json()["description"]
    fetched = (await publisher.client.get(f"{APIS}/{api['id']}")).json()
    assert fetched["lifecycleStatus"] == "CREATED"

    await publisher.client.put(
        f"{APIS}/{api['id']}/backend-security", json={"production": None, "sandbox": None}
    )
    await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    await publisher.client.post(f"{APIS}/{api['id']}/undeploy")
    undeployed = await publisher.client.post(lifecycle, json={"action": "publish"})
    assert undeployed.status_code == 409, undeployed.text

    await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    published = await publisher.client.post(lifecycle, json={"action": "publish"})
    assert published.status_code == 200, published.text
    assert published.json()["lifecycleStatus"] == "PUBLISHED"
