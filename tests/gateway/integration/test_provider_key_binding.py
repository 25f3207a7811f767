"""A provider key is sealed for the origin it is sent to: a deploy that points an endpoint
somewhere else never carries the key there (issue 9, finding 4)."""

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import DeployedEndpoint, KeyIssued, SubscriptionCreated
from tests.support.gateway import PATH, Events, RunningGateway, deploy_event
from tests.support.infra import Infra
from tests.support.publisher import API_PREFIX, running_publisher
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration

CHAT = {"model": "mistral-small", "messages": [{"role": "user", "content": "Hi"}]}
PROVIDER_KEY = "mock-provider-key"


def elsewhere(mock_url: str) -> str:
    """The mock under another origin (`localhost` instead of `127.0.0.1`): the listener."""
    port = urlsplit(mock_url).port
    return f"http://localhost:{port}"


async def seen_at(mock: httpx.AsyncClient, marker: str) -> list[dict[str, Any]]:
    return [r for r in (await mock.get("/_mock/requests")).json() if marker in r["path"]]


async def _subscribe(events: Events, gateway: RunningGateway, api_id: str, key: str) -> None:
    app_id = f"app-{api_id}"
    await events.publish(
        SubscriptionCreated(
            subscription_id=f"sub-{api_id}",
            application_id=app_id,
            api_id=api_id,
            policy="Unlimited",
        ),
        KeyIssued(
            key_id=f"k-{api_id}",
            key_hash=sha256_hex(key),
            application_id=app_id,
            key_type="PRODUCTION",
        ),
    )
    await gateway.wait_until(lambda: sha256_hex(key) in gateway.app.state.table.keys)


async def test_a_ciphertext_sealed_for_another_origin_is_not_used(
    events: Events,
    gateway: RunningGateway,
    mock_provider: str,
    mock: httpx.AsyncClient,
    unique: str,
):
    """A hand-made deploy: the listener's URL with the ciphertext the publisher sealed for
    the provider. The gateway refuses the key instead of sending it to the listener."""
    api_id, prefix, caller_key = f"api-{unique}", f"bound{unique}/1.0", f"caller-{unique}"
    sealed_for = f"{mock_provider}/production/{unique}"
    listener = f"{elsewhere(mock_provider)}/listener/{unique}"
    event = deploy_event(events, api_id, prefix, mock_provider, unique, sandbox=False)
    ciphertext = events.encrypt(PROVIDER_KEY, api_id, "production", sealed_for)
    event = event.model_copy(
        update={"production": DeployedEndpoint(url=listener, api_key_ciphertext=ciphertext)}
    )
    await events.publish(event)
    await gateway.wait_route(prefix)
    await _subscribe(events, gateway, api_id, caller_key)

    async with gateway.client() as client:
        response = await client.post(
            f"/{prefix}{PATH}", json=CHAT, headers={"Authorization": f"Bearer {caller_key}"}
        )

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "provider_key_unavailable"
    assert await seen_at(mock, f"/listener/{unique}") == []


async def test_a_path_change_on_the_same_origin_keeps_the_key(
    events: Events,
    gateway: RunningGateway,
    mock_provider: str,
    mock: httpx.AsyncClient,
    unique: str,
):
    api_id, prefix, caller_key = f"api-{unique}", f"samepath{unique}/1.0", f"caller-{unique}"
    event = deploy_event(events, api_id, prefix, mock_provider, unique, sandbox=False)
    # sealed for the same origin spelt otherwise (upper-case scheme) and another path
    sealed_for = mock_provider.replace("http://", "HTTP://") + f"/production/{unique}"
    ciphertext = events.encrypt(PROVIDER_KEY, api_id, "production", sealed_for)
    moved = DeployedEndpoint(url=f"{mock_provider}/moved/{unique}", api_key_ciphertext=ciphertext)
    event = event.model_copy(update={"production": moved})
    await events.publish(event)
    await gateway.wait_route(prefix)
    await _subscribe(events, gateway, api_id, caller_key)

    async with gateway.client() as client:
        response = await client.post(
            f"/{prefix}{PATH}", json=CHAT, headers={"Authorization": f"Bearer {caller_key}"}
        )

    assert response.status_code == 200, response.text
    [seen] = await seen_at(mock, f"/moved/{unique}")
    assert seen["headers"]["authorization"] == f"Bearer {PROVIDER_KEY}"


async def test_repointing_an_api_through_the_publisher_never_sends_its_key_elsewhere(
    infra: Infra,
    secret_key: str,
    signer: TestSigner,
    events: Events,
    gateway: RunningGateway,
    mock_provider: str,
    mock: httpx.AsyncClient,
    unique: str,
):
    """Its own publisher moves the production endpoint to another origin: the stored key is
    cleared, a deploy without a new key is refused, and an explicit keyless deploy reaches
    the new origin without the old key."""
    owner = signer.auth(f"owner-{unique}", ("publisher",))
    caller_key = f"caller-{unique}"
    async with running_publisher(infra, secret_key, signer, unique, dev_mode=True) as publisher:
        http = publisher.client
        body = publisher.body(
            context=f"repoint{unique}",
            endpoints={"production": f"{mock_provider}/production/{unique}"},
        )
        created = await http.post(f"{API_PREFIX}/apis", json=body, headers=owner)
        assert created.status_code == 201, created.text
        api_id = created.json()["id"]
        api = f"{API_PREFIX}/apis/{api_id}"
        secured = await http.put(
            f"{api}/backend-security", json={"production": {"apiKey": PROVIDER_KEY}}, headers=owner
        )
        assert secured.status_code == 200, secured.text
        assert (await http.post(f"{api}/deploy", headers=owner)).status_code == 201
        prefix = f"repoint{unique}/0.0.2"
        await gateway.wait_route(prefix)
        await _subscribe(events, gateway, api_id, caller_key)

        listener = f"{elsewhere(mock_provider)}/listener/{unique}"
        moved = {**body, "endpoints": {"production": listener}}
        assert (await http.put(api, json=moved, headers=owner)).status_code == 200
        security = await http.get(f"{api}/backend-security", headers=owner)
        assert security.json()["production"] is None

        refused = await http.post(f"{api}/deploy", headers=owner)
        assert refused.status_code == 409, refused.text
        assert "production" in refused.json()["description"]

        keyless = await http.put(
            f"{api}/backend-security", json={"production": None}, headers=owner
        )
        assert keyless.status_code == 200, keyless.text
        assert (await http.post(f"{api}/deploy", headers=owner)).status_code == 201
        await gateway.wait_route(prefix, revision=2)

    async with gateway.client() as client:
        await client.post(
            f"/{prefix}{PATH}", json=CHAT, headers={"Authorization": f"Bearer {caller_key}"}
        )
    [seen] = await seen_at(mock, f"/listener/{unique}")
    assert "authorization" not in seen["headers"]
    assert PROVIDER_KEY not in str(seen)
