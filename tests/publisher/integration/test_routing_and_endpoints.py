"""Additional endpoints and routing policies on an API: validated against the API's endpoints,
each endpoint's provider key set by name, and all of it in the deployed revision."""

from typing import Any

import pytest
from cryptography.exceptions import InvalidTag

from aigw.common.crypto import SecretBox, provider_key_context
from aigw.common.events import ApiDeployed
from aigw.common.model_routing import ApiRouting, RouteTarget, RoutingPolicy
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"
PROD_KEY = "mistral-prod-key-0123456789-WXYZ"
BACKUP_KEY = "backup-provider-key-0123456789-bkup"
EU_KEY = "eu-provider-key-0123456789-euro"
ADDITIONAL = {"backup": "https://backup.example.com/", "eu-west": "https://eu.example.com"}
ROUTING = {
    "production": {
        "targets": [
            {"endpoint": "production", "model": "mistral-large-latest", "weight": 3},
            {"endpoint": "backup", "model": "gpt-4o"},
        ],
        "fallbacks": [{"endpoint": "eu-west"}],
        "timeoutSeconds": 20,
        "suspendSeconds": 60,
    }
}


def routed(publisher: Publisher, **overrides: Any) -> dict[str, Any]:
    return publisher.body(additionalEndpoints=ADDITIONAL, routing=ROUTING, **overrides)


async def test_an_api_keeps_its_additional_endpoints_and_routing(publisher: Publisher):
    response = await publisher.client.post(APIS, json=routed(publisher))
    assert response.status_code == 201, response.text
    api = response.json()
    assert api["additionalEndpoints"] == {
        "backup": "https://backup.example.com",
        "eu-west": "https://eu.example.com",
    }
    assert api["routing"] == {
        "production": {
            "targets": [
                {"endpoint": "production", "model": "mistral-large-latest", "weight": 3},
                {"endpoint": "backup", "model": "gpt-4o", "weight": 1},
            ],
            "fallbacks": [{"endpoint": "eu-west", "model": None, "weight": 1}],
            "timeoutSeconds": 20.0,
            "suspendSeconds": 60.0,
        },
        "sandbox": None,
    }
    assert (await publisher.client.get(f"{APIS}/{api['id']}")).json() == api


async def test_an_api_without_them_has_none(publisher: Publisher):
    api = await publisher.create()
    assert api["additionalEndpoints"] == {}
    assert api["routing"] == {"production": None, "sandbox": None}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"additionalEndpoints": {"production": "https://x.example.com"}},
            "additionalEndpoints must not be named 'production'",
        ),
        (
            {"additionalEndpoints": {"Bad Name": "https://x.example.com"}},
            "additionalEndpoints.Bad Name.[key]: String should match pattern",
        ),
        (
            {"routing": {"production": {"targets": [{"endpoint": "backup"}]}}},
            (
                "routing.production names endpoints the API does not have: 'backup' "
                "(its endpoints: production, sandbox)"
            ),
        ),
        (
            {
                "endpoints": {"production": "https://api.mistral.ai"},
                "additionalEndpoints": {"backup": "https://x.example.com"},
                "routing": {"sandbox": {"targets": [{"endpoint": "sandbox"}]}},
            },
            (
                "routing.sandbox names endpoints the API does not have: 'sandbox' "
                "(its endpoints: production, backup)"
            ),
        ),
        (
            {"routing": {"production": {"targets": [{"endpoint": "production", "weight": 0}]}}},
            "routing.production.targets.0.weight: Input should be greater than or equal to 1",
        ),
        (
            {"routing": {"sandbox": {"targets": [{"endpoint": "production"}]}}},
            "routing.sandbox must not route to the production endpoint",
        ),
        (
            {"routing": {"production": {"targets": [{"endpoint": "production", "model": "a\nb"}]}}},
            "routing.production.targets.0.model: String should match pattern",
        ),
    ],
)
async def test_bad_endpoints_or_routing_are_refused(
    publisher: Publisher, overrides: dict[str, Any], message: str
):
    response = await publisher.client.post(APIS, json=publisher.body(**overrides))
    assert response.status_code == 422, response.text
    assert message in response.json()["description"]
    api = await publisher.create()
    update = await publisher.client.put(f"{APIS}/{api['id']}", json=publisher.body(**overrides))
    assert update.status_code == 422
    assert message in update.json()["description"]


async def test_additional_endpoints_must_be_public_https_outside_dev_mode(
    production_publisher: Publisher,
):
    body = production_publisher.body(
        endpoints={"production": "https://api.mistral.ai"},
        additionalEndpoints={"local": "http://127.0.0.1:8090"},
    )
    response = await production_publisher.client.post(APIS, json=body)
    assert response.status_code == 422
    assert "the additional endpoint 'local' uses plain http" in response.json()["description"]


async def test_keys_for_named_endpoints_are_masked_and_sealed_per_endpoint(
    publisher: Publisher, secret_key: str
):
    api = (await publisher.client.post(APIS, json=routed(publisher))).json()
    url = f"{APIS}/{api['id']}/backend-security"
    body = {"production": {"apiKey": PROD_KEY}, "backup": {"apiKey": BACKUP_KEY}}
    response = await publisher.client.put(url, json=body)
    assert response.status_code == 200, response.text
    masked = {
        "production": {"apiKey": "****WXYZ"},
        "sandbox": None,
        "backup": {"apiKey": "****bkup"},
        "eu-west": None,
    }
    assert response.json() == masked
    # omitted endpoints keep their keys
    response = await publisher.client.put(url, json={"eu-west": {"apiKey": EU_KEY}})
    masked["eu-west"] = {"apiKey": "****euro"}
    assert response.json() == masked
    assert (await publisher.client.get(url)).json() == masked

    doc = await publisher.app.state.runtime.db["apis"].find_one({"_id": api["id"]})
    for key in (PROD_KEY, BACKUP_KEY, EU_KEY):
        assert key not in str(doc)
    box = SecretBox(secret_key)
    sealed = doc["backend_security"]["backup"]["ciphertext"]
    assert (
        box.decrypt(sealed, provider_key_context(api["id"], "backup", ADDITIONAL["backup"]))
        == BACKUP_KEY
    )
    with pytest.raises(InvalidTag):  # bound to its endpoint: no other endpoint's context opens it
        box.decrypt(sealed, provider_key_context(api["id"], "production", ADDITIONAL["backup"]))


async def test_a_key_for_an_endpoint_the_api_lacks_is_refused(publisher: Publisher):
    api = (await publisher.client.post(APIS, json=routed(publisher))).json()
    url = f"{APIS}/{api['id']}/backend-security"
    response = await publisher.client.put(
        url, json={"production": {"apiKey": PROD_KEY}, "nope": {"apiKey": "k" * 20}}
    )
    assert response.status_code == 422
    assert "no endpoint named 'nope'" in response.json()["description"]
    assert "production, sandbox, backup, eu-west" in response.json()["description"]
    assert (await publisher.client.get(url)).json()["production"] is None  # nothing stored
    empty = await publisher.client.put(url, json={})
    assert empty.status_code == 422
    assert "at least one endpoint" in empty.json()["description"]


async def test_deploy_carries_the_endpoints_their_ciphertexts_and_the_routing(
    publisher: Publisher, secret_key: str
):
    api = (await publisher.client.post(APIS, json=routed(publisher))).json()
    keys = {"production": {"apiKey": PROD_KEY}, "backup": {"apiKey": BACKUP_KEY}}
    await publisher.client.put(f"{APIS}/{api['id']}/backend-security", json=keys)
    await publisher.keyless(api["id"], "sandbox", "eu-west")
    async with publisher.expect_event("aigw.api.deployed", api["id"]) as deployed:
        assert (await publisher.client.post(f"{APIS}/{api['id']}/deploy")).status_code == 201

    event = await deployed
    assert event.dataversion == 2
    for key in (PROD_KEY, BACKUP_KEY):
        assert key not in event.model_dump_json()
    snapshot = ApiDeployed.from_envelope(event)
    assert snapshot.vendor.name == "MistralAI"
    assert set(snapshot.endpoints) == {"backup", "eu-west"}
    assert snapshot.endpoints["backup"].url == "https://backup.example.com"
    assert snapshot.endpoints["eu-west"].url == "https://eu.example.com"
    assert snapshot.endpoints["eu-west"].api_key_ciphertext is None

    box = SecretBox(secret_key)
    backup = snapshot.endpoints["backup"].api_key_ciphertext
    assert backup is not None
    assert (
        box.decrypt(backup, provider_key_context(api["id"], "backup", "https://backup.example.com"))
        == BACKUP_KEY
    )
    assert snapshot.production is not None
    production = snapshot.production.api_key_ciphertext
    assert production is not None
    assert (
        box.decrypt(
            production, provider_key_context(api["id"], "production", snapshot.production.url)
        )
        == PROD_KEY
    )

    assert snapshot.routing == ApiRouting(
        production=RoutingPolicy(
            targets=[
                RouteTarget(endpoint="production", model="mistral-large-latest", weight=3),
                RouteTarget(endpoint="backup", model="gpt-4o"),
            ],
            fallbacks=[RouteTarget(endpoint="eu-west")],
            timeout_seconds=20,
            suspend_seconds=60,
        )
    )


async def test_removing_an_additional_endpoint_drops_its_key(publisher: Publisher):
    """A PUT leaving out an endpoint that holds a key is refused (409, see test_api_patch);
    once its key is removed, the PUT removes the endpoint and nothing of the key is left."""
    api = (await publisher.client.post(APIS, json=routed(publisher))).json()
    url = f"{APIS}/{api['id']}/backend-security"
    await publisher.client.put(url, json={"backup": {"apiKey": BACKUP_KEY}})

    without_backup = publisher.body(additionalEndpoints={"eu-west": "https://eu.example.com"})
    refused = await publisher.client.put(f"{APIS}/{api['id']}", json=without_backup)
    assert refused.status_code == 409, refused.text
    assert "'backup'" in refused.json()["description"]
    assert (await publisher.client.put(url, json={"backup": None})).status_code == 200
    response = await publisher.client.put(f"{APIS}/{api['id']}", json=without_backup)
    assert response.status_code == 200, response.text
    assert response.json()["additionalEndpoints"] == {"eu-west": "https://eu.example.com"}
    assert response.json()["routing"] == {"production": None, "sandbox": None}
    assert (await publisher.client.get(url)).json() == {
        "production": None,
        "sandbox": None,
        "eu-west": None,
    }
    doc = await publisher.app.state.runtime.db["apis"].find_one({"_id": api["id"]})
    assert "backup" not in doc["backend_security"]

    await publisher.keyless(api["id"], "production", "sandbox", "eu-west")
    await publisher.client.post(f"{APIS}/{api['id']}/deploy")
    events = await stream_events(publisher.settings.nats_url, "aigw.api.deployed")
    [snapshot] = [ApiDeployed.from_envelope(e) for e in events if e.subject == api["id"]]
    assert set(snapshot.endpoints) == {"eu-west"}
    assert snapshot.routing == ApiRouting()


async def test_patching_an_additional_endpoint_away_drops_its_key(publisher: Publisher):
    api = (await publisher.client.post(APIS, json=routed(publisher))).json()
    url = f"{APIS}/{api['id']}/backend-security"
    await publisher.client.put(url, json={"backup": {"apiKey": BACKUP_KEY}})

    patch = {"additionalEndpoints": {"backup": None}, "routing": {"production": None}}
    response = await publisher.client.patch(
        f"{APIS}/{api['id']}",
        json=patch,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["additionalEndpoints"] == {"eu-west": "https://eu.example.com"}
    assert (await publisher.client.get(url)).json() == {
        "production": None,
        "sandbox": None,
        "eu-west": None,
    }
    doc = await publisher.app.state.runtime.db["apis"].find_one({"_id": api["id"]})
    assert "backup" not in doc["backend_security"]
    assert BACKUP_KEY[-4:] not in str(doc["backend_security"])


@pytest.mark.parametrize("key", ["sk-live-1234\n", " sk-live-1234", "sk-\r\nX-Evil: 1"])
async def test_a_provider_key_that_could_not_be_sent_is_refused(publisher: Publisher, key: str):
    api = await publisher.create()
    url = f"{APIS}/{api['id']}/backend-security"
    response = await publisher.client.put(url, json={"production": {"apiKey": key}})
    assert response.status_code == 422
    assert "production.apiKey" in response.json()["description"]
    assert (await publisher.client.get(url)).json()["production"] is None
