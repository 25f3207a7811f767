"""An API belongs to the publisher who created it and its co-owners: other publishers get 404
for it and do not see it listed; admins see and change every API (issue 9, finding 4)."""

from typing import Any

import pytest

from aigw.common.crypto import SecretBox, provider_key_context
from aigw.common.events import ApiDeployed
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"
PROVIDER_KEY = "mistral-prod-key-0123456789-WXYZ"
LISTENER = "http://listener.example:9999/v1"


def publisher_auth(signer: TestSigner, name: str) -> dict[str, str]:
    return signer.auth(name, ("publisher",))


async def _secured(publisher: Publisher, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    created = await publisher.client.post(APIS, json=publisher.body(**overrides), headers=auth)
    assert created.status_code == 201, created.text
    api: dict[str, Any] = created.json()
    key = {"production": {"apiKey": PROVIDER_KEY}}
    url = f"{APIS}/{api['id']}/backend-security"
    assert (await publisher.client.put(url, json=key, headers=auth)).status_code == 200
    return api


async def test_another_publisher_cannot_see_or_repoint_an_api(
    publisher: Publisher, signer: TestSigner
):
    alice, bob = publisher_auth(signer, "alice"), publisher_auth(signer, "bob")
    api = await _secured(publisher, alice)
    url = f"{APIS}/{api['id']}"
    repointed = publisher.body(endpoints={"production": LISTENER})
    http = publisher.client

    answers = {
        "get": await http.get(url, headers=bob),
        "put": await http.put(url, json=repointed, headers=bob),
        "patch": await http.patch(url, json={"endpoints": {"production": LISTENER}}, headers=bob),
        "get key": await http.get(f"{url}/backend-security", headers=bob),
        "put key": await http.put(
            f"{url}/backend-security", json={"production": {"apiKey": "x" * 20}}, headers=bob
        ),
        "deploy": await http.post(f"{url}/deploy", headers=bob),
        "lifecycle": await http.post(f"{url}/lifecycle", json={"action": "publish"}, headers=bob),
        "usage": await http.get(f"{url}/usage", headers=bob),
        "undeploy": await http.post(f"{url}/undeploy", headers=bob),
        "delete": await http.delete(url, headers=bob),
    }

    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    assert answers["put"].json()["description"] == f"No API with id '{api['id']}'"
    listed = (await http.get(APIS, headers=bob)).json()
    assert api["id"] not in [a["id"] for a in listed["list"]]
    mine = await http.get(url, headers=alice)
    assert mine.json()["endpoints"]["production"] == "https://api.mistral.ai"
    assert api["id"] in [a["id"] for a in (await http.get(APIS, headers=alice)).json()["list"]]
    assert api["owner"] == "alice"


async def test_admins_see_every_api_and_co_owners_share_it(
    publisher: Publisher, signer: TestSigner
):
    alice, bob = publisher_auth(signer, "alice"), publisher_auth(signer, "bob")
    admin = signer.auth()
    api = await _secured(publisher, alice)
    url = f"{APIS}/{api['id']}"
    http = publisher.client
    assert (await http.get(url, headers=admin)).status_code == 200
    assert api["id"] in [a["id"] for a in (await http.get(APIS, headers=admin)).json()["list"]]

    shared = publisher.body(coOwners=["bob"], description="shared with bob")
    updated = await http.put(url, json=shared, headers=alice)
    assert updated.status_code == 200, updated.text
    assert (updated.json()["owner"], updated.json()["coOwners"]) == ("alice", ["bob"])

    # the co-owner works on it (coOwners left out: kept) but may not change who owns it
    assert (await http.get(url, headers=bob)).status_code == 200
    edited = await http.put(url, json=publisher.body(description="bob was here"), headers=bob)
    assert edited.status_code == 200, edited.text
    assert edited.json()["coOwners"] == ["bob"]
    grab = await http.put(url, json=publisher.body(coOwners=["bob", "carol"]), headers=bob)
    assert grab.status_code == 403, grab.text
    assert "coOwners" in grab.json()["description"]
    assert api["id"] in [a["id"] for a in (await http.get(APIS, headers=bob)).json()["list"]]

    # an admin may change the co-owners; bob loses access
    dropped = await http.put(url, json=publisher.body(coOwners=[]), headers=admin)
    assert dropped.status_code == 200, dropped.text
    assert (await http.get(url, headers=bob)).status_code == 404


async def test_an_api_without_an_owner_is_the_admins(publisher: Publisher, signer: TestSigner):
    """APIs created before owners existed: only admins see them, until one sets coOwners."""
    alice = publisher_auth(signer, "alice")
    api = await _secured(publisher, alice)
    await publisher.app.state.runtime.db["apis"].update_one(
        {"_id": api["id"]}, {"$unset": {"owner": "", "co_owners": ""}}
    )
    url = f"{APIS}/{api['id']}"
    assert (await publisher.client.get(url, headers=alice)).status_code == 404
    as_admin = await publisher.client.get(url)
    assert (as_admin.status_code, as_admin.json()["owner"]) == (200, None)


async def test_moving_an_endpoint_to_another_origin_clears_its_key(
    publisher: Publisher, signer: TestSigner, secret_key: str
):
    """Even the owner (or an admin) cannot send the stored key to a new origin: the key goes
    with the old origin, and deploying without a new one is refused, naming the endpoint."""
    alice = publisher_auth(signer, "alice")
    api = await _secured(publisher, alice, additionalEndpoints={"backup": "https://b.example/v1"})
    backup = {"backup": {"apiKey": "backup-key-0123456789-abcd"}}
    url = f"{APIS}/{api['id']}"
    http = publisher.client
    assert (
        await http.put(f"{url}/backend-security", json=backup, headers=alice)
    ).status_code == 200

    # same origins, other paths and spellings: both keys stay
    same = publisher.body(
        endpoints={
            "production": "HTTPS://API.Mistral.ai:443/v2",
            "sandbox": "http://127.0.0.1:8090",
        },
        additionalEndpoints={"backup": "https://b.example/other"},
    )
    assert (await http.put(url, json=same, headers=alice)).status_code == 200
    kept = (await http.get(f"{url}/backend-security", headers=alice)).json()
    assert kept["production"] is not None
    assert kept["backup"] is not None

    # production and backup move to another origin (as an admin: owners' rights are no key)
    moved = publisher.body(
        endpoints={"production": LISTENER, "sandbox": "http://127.0.0.1:8090"},
        additionalEndpoints={"backup": "https://b.example:8443/other"},
    )
    assert (await http.put(url, json=moved)).status_code == 200
    cleared = (await http.get(f"{url}/backend-security", headers=alice)).json()
    assert cleared == {"production": None, "sandbox": None, "backup": None}

    refused = await http.post(f"{url}/deploy", headers=alice)
    assert refused.status_code == 409, refused.text
    assert "'backup', 'production'" in refused.json()["description"]
    deploys = await stream_events(publisher.settings.nats_url, "aigw.api.deployed")
    assert [e for e in deploys if e.subject == api["id"]] == []

    # a new key, sealed for the new origin, deploys; backup explicitly goes keyless
    new_key = {
        "production": {"apiKey": "listener-key-0123456789"},
        "backup": None,
        "sandbox": None,
    }
    assert (
        await http.put(f"{url}/backend-security", json=new_key, headers=alice)
    ).status_code == 200
    assert (await http.post(f"{url}/deploy", headers=alice)).status_code == 201
    [event] = [
        e
        for e in await stream_events(publisher.settings.nats_url, "aigw.api.deployed")
        if e.subject == api["id"]
    ]
    snapshot = ApiDeployed.from_envelope(event)
    assert snapshot.production is not None
    assert snapshot.production.url == LISTENER
    ciphertext = snapshot.production.api_key_ciphertext
    assert ciphertext is not None
    context = provider_key_context(api["id"], "production", LISTENER)
    assert SecretBox(secret_key).decrypt(ciphertext, context) == "listener-key-0123456789"
    assert snapshot.endpoints["backup"].api_key_ciphertext is None
