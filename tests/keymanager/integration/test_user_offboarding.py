"""Deleting a user revokes their API keys and OAuth2 clients, each with its revocation event;
a keymanager that stopped between the tombstone and the revocations finishes them at start."""

import uuid
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from aigw.common.events import UserDeleted, new_event
from aigw.common.service_auth import ServiceAuth
from aigw.keymanager.apikeys.repository import ApiKeyRepository
from aigw.keymanager.settings import Settings
from aigw.keymanager.users.repository import UserRepository
from tests.support.events import expect_event
from tests.support.infra import Infra
from tests.support.keymanager import API, running

pytestmark = pytest.mark.integration

PASSWORD = "offboarding-pw-1"


async def _user_with_credentials(
    client: httpx.AsyncClient, auth: dict[str, str], as_devportal: ServiceAuth
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    username = f"leaver-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": PASSWORD, "roles": ["subscriber"]}
    assert (await client.post(f"{API}/users", json=body, headers=auth)).status_code == 201
    login = await client.post(
        f"{API}/auth/login", json={"username": username, "password": PASSWORD}
    )
    user_auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    app_id = f"app-{uuid.uuid4().hex[:8]}"
    key = await client.post(
        f"{API}/api-keys",
        json={"applicationId": app_id, "keyType": "PRODUCTION"},
        headers=user_auth,
        auth=as_devportal,
    )
    assert key.status_code == 201, key.text
    oauth = await client.post(
        f"{API}/oauth-clients",
        json={"applicationId": app_id, "keyType": "SANDBOX"},
        headers=user_auth,
        auth=as_devportal,
    )
    assert oauth.status_code == 201, oauth.text
    return username, key.json(), oauth.json()


async def _revoked(client: httpx.AsyncClient, auth: dict[str, str]) -> tuple[bool, bool]:
    keys = (await client.get(f"{API}/api-keys", headers=auth)).json()["list"]
    clients = (await client.get(f"{API}/oauth-clients", headers=auth)).json()["list"]
    return all(k["revoked"] for k in keys), all(c["revoked"] for c in clients)


async def test_deleting_a_user_revokes_their_keys_and_clients(
    client: httpx.AsyncClient, auth: dict[str, str], as_devportal: ServiceAuth, infra: Infra
) -> None:
    username, key, oauth = await _user_with_credentials(client, auth, as_devportal)
    async with (
        expect_event("aigw.key.revoked", key["id"]) as revoked_key,
        expect_event("aigw.oauthclient.revoked", oauth["clientId"]) as revoked_client,
    ):
        assert (await client.delete(f"{API}/users/{username}", headers=auth)).status_code == 204

    assert (await revoked_key).actor == (await revoked_client).actor == "admin"
    token = await client.post(
        f"{API}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(oauth["clientId"], oauth["clientSecret"]),
    )
    assert token.status_code == 401


async def test_a_deletion_interrupted_before_the_revocations_is_finished_at_start(
    settings: Settings, as_devportal: ServiceAuth, infra: Infra
) -> None:
    async with running(settings) as client:
        login = await client.post(
            f"{API}/auth/login",
            json={"username": "admin", "password": settings.admin_password.get_secret_value()},
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        username, key, oauth = await _user_with_credentials(client, auth, as_devportal)
    # keymanager "died" right after the tombstone: the user is deleted, nothing revoked yet
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    try:
        users = UserRepository(mongo[settings.mongodb_db])
        doc = await users.find(username)
        assert doc is not None
        event = new_event(UserDeleted(username=username), source="keymanager", actor="admin")
        assert await users.tombstone(doc, event)
        assert await users.pending_credential_revocations() == [username]

        async with (
            expect_event("aigw.key.revoked", key["id"]),
            expect_event("aigw.oauthclient.revoked", oauth["clientId"]),
            running(settings) as client,
        ):
            login = await client.post(
                f"{API}/auth/login",
                json={"username": "admin", "password": settings.admin_password.get_secret_value()},
            )
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert await _revoked(client, auth) == (True, True)
        assert await users.pending_credential_revocations() == []
    finally:
        await mongo.close()


async def test_a_key_issued_while_its_user_is_deleted_does_not_live(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    as_devportal: ServiceAuth,
    settings: Settings,
    infra: Infra,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issuing request was past the token check when the admin deleted the account, and
    the delete's revocations ran before the key was stored: the key is revoked all the same."""
    username, _, _ = await _user_with_credentials(client, auth, as_devportal)
    login = await client.post(
        f"{API}/auth/login", json={"username": username, "password": PASSWORD}
    )
    user_auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    insert = ApiKeyRepository.insert

    async def deleted_meanwhile(self: ApiKeyRepository, doc: dict[str, Any], event: Any) -> None:
        assert (await client.delete(f"{API}/users/{username}", headers=auth)).status_code == 204
        await insert(self, doc, event)

    monkeypatch.setattr(ApiKeyRepository, "insert", deleted_meanwhile)
    async with expect_event("aigw.key.revoked") as revoked:
        issued = await client.post(
            f"{API}/api-keys",
            json={"applicationId": "app-late", "keyType": "PRODUCTION"},
            headers=user_auth,
            auth=as_devportal,
        )
        assert issued.status_code == 401
        assert "apiKey" not in issued.text
        monkeypatch.undo()
        keys = (
            await client.get(f"{API}/api-keys", params={"applicationId": "app-late"}, headers=auth)
        ).json()
        assert keys["count"] == 1
        assert keys["list"][0]["revoked"] is True
        revoked.about(keys["list"][0]["id"])
