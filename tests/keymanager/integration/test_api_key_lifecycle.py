"""Regenerating API keys (same id, new secret, shown once) and the expiry bound."""

from datetime import UTC, datetime
from typing import Any

import pytest

from aigw.common.crypto import sha256_hex
from aigw.keymanager.settings import Settings
from tests.support.events import expect_event, stream_events
from tests.support.infra import Infra
from tests.support.keymanager import API, login_as, store_dump

Json = dict[str, Any]

pytestmark = pytest.mark.integration

BODY = {"applicationId": "app-1", "keyType": "PRODUCTION"}
YEAR = 365 * 24 * 3600


async def _issue(client, auth, as_devportal, **overrides) -> Json:
    response = await client.post(
        f"{API}/api-keys", json={**BODY, **overrides}, headers=auth, auth=as_devportal
    )
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


async def _regenerate(client, key_id: str, headers, as_devportal):
    return await client.post(
        f"{API}/api-keys/{key_id}/regenerate", headers=headers, auth=as_devportal
    )


async def test_regenerate_keeps_the_id_and_replaces_the_secret(
    client, auth, as_devportal, infra: Infra, settings: Settings
) -> None:
    old = await _issue(client, auth, as_devportal, expiresIn=600)

    async with expect_event("aigw.key.regenerated", old["id"]) as regenerated:
        response = await _regenerate(client, old["id"], auth, as_devportal)

    assert response.status_code == 201, response.text
    new = response.json()
    assert new["id"] == old["id"]
    assert new["apiKey"].startswith("aigw_")
    assert new["apiKey"] != old["apiKey"]
    assert (new["keyType"], new["applicationId"]) == ("PRODUCTION", "app-1")
    lifetime = datetime.fromisoformat(new["expiresAt"]) - datetime.now(UTC)
    assert 0 < lifetime.total_seconds() <= 600  # the original lifetime, counted anew
    event = await regenerated
    assert event.data["key_hash"] == sha256_hex(new["apiKey"])
    assert event.data["expires_at"] is not None
    assert event.actor == "admin"
    [listed] = (await client.get(f"{API}/api-keys", headers=auth)).json()["list"]
    assert listed["maskedKey"] == "****" + new["apiKey"][-4:]
    dump = await store_dump(settings)
    assert sha256_hex(new["apiKey"]) in dump
    assert sha256_hex(old["apiKey"]) not in dump
    assert new["apiKey"] not in dump
    assert new["apiKey"] not in event.model_dump_json()


async def test_a_key_without_expiry_stays_without(client, auth, as_devportal) -> None:
    old = await _issue(client, auth, as_devportal)
    new = (await _regenerate(client, old["id"], auth, as_devportal)).json()
    assert new["expiresAt"] is None


async def test_a_revoked_key_cannot_be_regenerated(
    client, auth, as_devportal, infra: Infra
) -> None:
    old = await _issue(client, auth, as_devportal)
    assert (await client.delete(f"{API}/api-keys/{old['id']}", headers=auth)).status_code == 204

    response = await _regenerate(client, old["id"], auth, as_devportal)

    assert response.status_code == 409
    assert response.json()["code"] == 409
    regenerated = await stream_events(infra.nats_url, "aigw.key.regenerated")
    assert old["id"] not in [e.subject for e in regenerated]


async def test_regenerate_needs_devportals_signature(client, auth, as_devportal) -> None:
    old = await _issue(client, auth, as_devportal)
    response = await client.post(f"{API}/api-keys/{old['id']}/regenerate", headers=auth)
    assert response.status_code == 403
    assert (await client.get(f"{API}/api-keys", headers=auth)).json()["list"][0][
        "maskedKey"
    ] == "****" + old["apiKey"][-4:]


async def test_someone_elses_or_an_unknown_key_is_404(
    client, auth, as_devportal, settings: Settings
) -> None:
    bob = await login_as(client, settings, "bob", ["subscriber"])
    admins = await _issue(client, auth, as_devportal)
    assert (await _regenerate(client, admins["id"], bob, as_devportal)).status_code == 404
    assert (await _regenerate(client, "no-such-key", auth, as_devportal)).status_code == 404


async def test_expiry_is_at_most_a_year(client, auth, as_devportal) -> None:
    url = f"{API}/api-keys"
    too_long = {**BODY, "expiresIn": YEAR + 1}
    response = await client.post(url, json=too_long, headers=auth, auth=as_devportal)
    assert response.status_code == 422
    await _issue(client, auth, as_devportal, expiresIn=YEAR)
