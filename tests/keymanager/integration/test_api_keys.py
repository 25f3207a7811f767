import json
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from aigw.common.crypto import generate_master_key, sha256_hex
from aigw.common.service_auth import ServiceAuth
from aigw.keymanager.settings import Settings
from tests.support.events import expect_event
from tests.support.infra import Infra
from tests.support.keymanager import ADMIN_PASSWORD, API, login_as
from tests.support.tokens import TestSigner

Json = dict[str, Any]

pytestmark = pytest.mark.integration

BODY = {"applicationId": "app-1", "keyType": "PRODUCTION"}


async def _issue(client, auth, as_devportal, **overrides) -> Json:
    response = await client.post(
        f"{API}/api-keys", json={**BODY, **overrides}, headers=auth, auth=as_devportal
    )
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


async def test_issue_key_emits_hash_only(client, auth, as_devportal, infra: Infra) -> None:
    async with expect_event("aigw.key.issued") as issued_event:
        issued = await _issue(
            client, auth, as_devportal, apiId="api-9", expiresIn=300, keyType="SANDBOX"
        )
        issued_event.about(issued["id"])
    assert issued.keys() == {"id", "apiKey", "keyType", "applicationId", "apiId", "expiresAt"}
    assert issued["apiKey"].startswith("aigw_")
    assert (issued["keyType"], issued["apiId"]) == ("SANDBOX", "api-9")
    assert issued["expiresAt"] is not None

    event = await issued_event
    assert event.actor == "admin"
    assert event.source == "keymanager"
    assert event.data["key_hash"] == sha256_hex(issued["apiKey"])
    assert event.data["application_id"] == "app-1"
    assert issued["apiKey"] not in event.model_dump_json()


async def test_issue_validation(client, auth, as_devportal) -> None:
    async def post(body: Json) -> int:
        url = f"{API}/api-keys"
        response = await client.post(url, json=body, headers=auth, auth=as_devportal)
        return response.status_code

    assert await post({"keyType": "PRODUCTION"}) == 422
    assert await post({**BODY, "keyType": "X"}) == 422
    assert await post({**BODY, "expiresIn": 0}) == 422


async def test_list_is_masked(client, auth, as_devportal) -> None:
    issued = await _issue(client, auth, as_devportal)
    await _issue(client, auth, as_devportal, applicationId="app-2")
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


async def test_revoke(client, auth, as_devportal, infra: Infra) -> None:
    issued = await _issue(client, auth, as_devportal)
    async with expect_event("aigw.key.revoked", issued["id"]) as revoked:
        response = await client.delete(f"{API}/api-keys/{issued['id']}", headers=auth)
    assert response.status_code == 204
    event = await revoked
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


async def test_correlation_id_is_propagated(client, auth, as_devportal, infra: Infra) -> None:
    headers = {**auth, "X-Correlation-ID": "corr-123"}
    async with expect_event("aigw.key.issued") as issued:
        response = await client.post(
            f"{API}/api-keys", json=BODY, headers=headers, auth=as_devportal
        )
        issued.about(response.json()["id"])
    event = await issued
    assert event.correlationid == "corr-123"


async def test_no_plaintext_secrets_at_rest(client, auth, as_devportal, settings: Settings) -> None:
    issued = await _issue(client, auth, as_devportal)
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


async def test_keys_are_private_to_their_owner(
    client, auth, as_devportal, settings: Settings
) -> None:
    bob = await login_as(client, settings, "bob", ["subscriber"])
    admins = await _issue(client, auth, as_devportal)
    bobs = await _issue(client, bob, as_devportal)
    listed = (await client.get(f"{API}/api-keys", headers=bob)).json()
    assert [k["id"] for k in listed["list"]] == [bobs["id"]]
    assert (await client.get(f"{API}/api-keys", headers=auth)).json()["count"] == 2
    denied = await client.delete(f"{API}/api-keys/{admins['id']}", headers=bob)
    assert denied.status_code == 404
    assert (await client.delete(f"{API}/api-keys/{bobs['id']}", headers=bob)).status_code == 204


# --- keys are issued only on devportal's signed request -----------------------------------

PORTAL_ONLY = "Keys are issued through the developer portal"


async def _keys_of(client, headers: dict[str, str]) -> list[Json]:
    response = await client.get(f"{API}/api-keys", headers=headers)
    assert response.status_code == 200, response.text
    keys: list[Json] = response.json()["list"]
    return keys


async def test_a_user_token_alone_cannot_issue_keys(
    client, auth, as_devportal, settings: Settings, infra: Infra
) -> None:
    """The finding: any user could call keymanager directly, naming someone else's
    application (riding on its subscriptions) or any API (a test key needs no subscription)."""
    bob = await login_as(client, settings, "bob", ["subscriber"])
    existing = await _issue(client, auth, as_devportal)  # app-1 exists and has keys

    for who in (bob, auth):  # not even an admin token suffices
        for body in (BODY, {**BODY, "apiId": "api-9", "expiresIn": 3600}):
            response = await client.post(f"{API}/api-keys", json=body, headers=who)
            assert response.status_code == 403, response.text
            error = response.json()
            assert error["code"] == 403
            assert error["description"].startswith(PORTAL_ONLY)
            assert "apiKey" not in error

    assert await _keys_of(client, bob) == []
    assert [k["id"] for k in await _keys_of(client, auth)] == [existing["id"]]


async def test_a_devportal_signed_request_issues_in_the_users_name(
    client, as_devportal, settings: Settings, infra: Infra
) -> None:
    bob = await login_as(client, settings, "bob", ["subscriber"])
    async with expect_event("aigw.key.issued") as issued_event:
        issued = await _issue(client, bob, as_devportal, applicationId="bobs-app")
        issued_event.about(issued["id"])
    event = await issued_event
    assert event.actor == "bob"
    assert [k["id"] for k in await _keys_of(client, bob)] == [issued["id"]]


async def test_a_signature_does_not_carry_over_to_another_request(
    client, auth, as_devportal, secret_key: str, settings: Settings
) -> None:
    bob = await login_as(client, settings, "bob", ["subscriber"])
    url = f"{API}/api-keys"
    request = client.build_request("POST", url, json=BODY, headers=auth)
    signed = next(as_devportal.auth_flow(request))
    signature = {k: v for k, v in signed.headers.items() if k.startswith("x-aigw-")}
    assert set(signature) == {"x-aigw-service", "x-aigw-timestamp", "x-aigw-signature"}

    # the admin's signed request replayed with bob's token, or with another body
    stolen = await client.post(url, json=BODY, headers={**bob, **signature})
    assert stolen.status_code == 401
    assert stolen.json()["description"] == (
        f"{PORTAL_ONLY}: The service signature does not match the request"
    )
    other_app = await client.post(
        url, json={**BODY, "applicationId": "app-2"}, headers={**auth, **signature}
    )
    assert other_app.status_code == 401
    assert await _keys_of(client, bob) == []
    assert await _keys_of(client, auth) == []


async def test_other_services_or_keys_cannot_sign_for_devportal(client, auth) -> None:
    url = f"{API}/api-keys"
    publisher = ServiceAuth(generate_master_key(), "devportal")
    forged = await client.post(url, json=BODY, headers=auth, auth=publisher)
    assert forged.status_code == 401
    assert forged.json()["description"].startswith(PORTAL_ONLY)


async def test_a_service_other_than_devportal_is_403(client, auth, secret_key: str) -> None:
    gateway = ServiceAuth(secret_key, "gateway")
    response = await client.post(f"{API}/api-keys", json=BODY, headers=auth, auth=gateway)
    assert response.status_code == 403
    assert response.json()["description"] == (
        f"{PORTAL_ONLY}: The calling service is not allowed to make this request"
    )


async def test_a_signature_without_a_user_token_is_401(client, as_devportal) -> None:
    response = await client.post(f"{API}/api-keys", json=BODY, auth=as_devportal)
    assert response.status_code == 401


async def test_list_and_revoke_need_only_the_users_token(client, auth, as_devportal) -> None:
    issued = await _issue(client, auth, as_devportal)
    assert [k["id"] for k in await _keys_of(client, auth)] == [issued["id"]]
    response = await client.delete(f"{API}/api-keys/{issued['id']}", headers=auth)
    assert response.status_code == 204
