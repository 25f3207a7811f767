import json
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from aigw.common.crypto import sha256_hex
from aigw.keymanager.settings import Settings
from aigw.keymanager.users.passwords import hash_password
from aigw.keymanager.users.repository import UserRepository
from tests.keymanager.integration.support import ADMIN_PASSWORD, API
from tests.support.events import wait_for_event
from tests.support.infra import Infra
from tests.support.tokens import TestSigner

Json = dict[str, Any]

pytestmark = pytest.mark.integration

BODY = {"applicationId": "app-1", "keyType": "PRODUCTION"}


async def _issue(client, auth, **overrides) -> Json:
    response = await client.post(f"{API}/api-keys", json={**BODY, **overrides}, headers=auth)
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


async def test_issue_key_emits_hash_only(client, auth, infra: Infra) -> None:
    issued = await _issue(client, auth, apiId="api-9", expiresIn=300, keyType="SANDBOX")
    assert issued.keys() == {"id", "apiKey", "keyType", "applicationId", "apiId", "expiresAt"}
    assert issued["apiKey"].startswith("aigw_")
    assert (issued["keyType"], issued["apiId"]) == ("SANDBOX", "api-9")
    assert issued["expiresAt"] is not None

    event = await wait_for_event(infra.nats_url, "aigw.key.issued", issued["id"])
    assert event.actor == "admin"
    assert event.source == "keymanager"
    assert event.data["key_hash"] == sha256_hex(issued["apiKey"])
    assert event.data["application_id"] == "app-1"
    assert issued["apiKey"] not in event.model_dump_json()


async def test_issue_validation(client, auth) -> None:
    missing = await client.post(f"{API}/api-keys", json={"keyType": "PRODUCTION"}, headers=auth)
    assert missing.status_code == 422
    bad_type = await client.post(f"{API}/api-keys", json={**BODY, "keyType": "X"}, headers=auth)
    assert bad_type.status_code == 422
    bad_ttl = await client.post(f"{API}/api-keys", json={**BODY, "expiresIn": 0}, headers=auth)
    assert bad_ttl.status_code == 422


async def test_list_is_masked(client, auth) -> None:
    issued = await _issue(client, auth)
    await _issue(client, auth, applicationId="app-2")
    response = await client.get(f"{API}/api-keys", params={"applicationId": "app-1"}, headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [item] = body["list"]
    assert item.keys() == {
        "id", "keyType", "applicationId", "apiId", "maskedKey", "expiresAt", "createdTime", "revoked"
    }  # fmt: skip
    assert item["id"] == issued["id"]
    assert item["maskedKey"] == "****" + issued["apiKey"][-4:]
    assert item["revoked"] is False
    assert issued["apiKey"] not in response.text
    assert sha256_hex(issued["apiKey"]) not in response.text
    assert (await client.get(f"{API}/api-keys", headers=auth)).json()["count"] == 2


async def test_revoke(client, auth, infra: Infra) -> None:
    issued = await _issue(client, auth)
    response = await client.delete(f"{API}/api-keys/{issued['id']}", headers=auth)
    assert response.status_code == 204
    event = await wait_for_event(infra.nats_url, "aigw.key.revoked", issued["id"])
    assert event.actor == "admin"
    [item] = (await client.get(f"{API}/api-keys", headers=auth)).json()["list"]
    assert item["revoked"] is True
    again = await client.delete(f"{API}/api-keys/{issued['id']}", headers=auth)
    assert again.status_code == 204  # idempotent


async def test_revoke_unknown_is_404(client, auth) -> None:
    response = await client.delete(f"{API}/api-keys/does-not-exist", headers=auth)
    assert response.status_code == 404
    assert response.json()["code"] == 404


async def test_no_token_is_401(client) -> None:
    for response in (
        await client.post(f"{API}/api-keys", json=BODY),
        await client.get(f"{API}/api-keys"),
        await client.delete(f"{API}/api-keys/x"),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == 401


async def test_foreign_signed_token_is_401(client) -> None:
    foreign = TestSigner().auth()
    response = await client.get(f"{API}/api-keys", headers=foreign)
    assert response.status_code == 401


async def test_correlation_id_is_propagated(client, auth, infra: Infra) -> None:
    headers = {**auth, "X-Correlation-ID": "corr-123"}
    response = await client.post(f"{API}/api-keys", json=BODY, headers=headers)
    event = await wait_for_event(infra.nats_url, "aigw.key.issued", response.json()["id"])
    assert event.correlationid == "corr-123"


async def test_no_plaintext_secrets_at_rest(client, auth, settings: Settings) -> None:
    issued = await _issue(client, auth)
    mongo: AsyncMongoClient[Json] = AsyncMongoClient(settings.mongodb_url)
    try:
        db = mongo[settings.mongodb_db]
        dump = ""
        for name in await db.list_collection_names():
            dump += json.dumps(await db[name].find().to_list(), default=str)
    finally:
        await mongo.close()
    assert sha256_hex(issued["apiKey"]) in dump  # sanity: we did read the keys
    assert issued["apiKey"] not in dump
    assert ADMIN_PASSWORD not in dump
    assert "$argon2id$" in dump
    assert '"sealed_private_key": "v1.' in dump  # the signing key only as a SecretBox ciphertext


async def _login_as(client, settings: Settings, username: str, roles: list[str]) -> Json:
    """Adds a user straight to the store: keymanager has no user-management endpoint yet."""
    mongo: AsyncMongoClient[Json] = AsyncMongoClient(settings.mongodb_url)
    try:
        repo = UserRepository(mongo[settings.mongodb_db])
        assert await repo.insert_if_absent(username, hash_password("pw-" + username), roles)
    finally:
        await mongo.close()
    body = {"username": username, "password": "pw-" + username}
    token = (await client.post(f"{API}/auth/login", json=body)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_keys_are_private_to_their_owner(client, auth, settings: Settings) -> None:
    bob = await _login_as(client, settings, "bob", ["subscriber"])
    admins = await _issue(client, auth)
    bobs = await _issue(client, bob)
    listed = (await client.get(f"{API}/api-keys", headers=bob)).json()
    assert [k["id"] for k in listed["list"]] == [bobs["id"]]
    assert (await client.get(f"{API}/api-keys", headers=auth)).json()["count"] == 2
    denied = await client.delete(f"{API}/api-keys/{admins['id']}", headers=bob)
    assert denied.status_code == 404
    assert (await client.delete(f"{API}/api-keys/{bobs['id']}", headers=bob)).status_code == 204
