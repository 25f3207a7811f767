"""An admin changes roles, disables, deletes and resets the password of users; a user changes
their own password. Every change ends the account's earlier tokens, is an audited event
without secrets, and the platform never loses its last enabled admin."""

import asyncio
import json

import httpx
import pytest

from aigw.keymanager.settings import Settings
from tests.support.events import expect_event
from tests.support.infra import Infra
from tests.support.keymanager import ADMIN_PASSWORD, API

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "tr0ub4dor-and-3"
LIMIT = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"login_max_failures": LIMIT, "login_max_delay_seconds": 0.01}
    )


async def _create(client: httpx.AsyncClient, auth: dict[str, str], name: str, *roles: str) -> None:
    body = {"username": name, "password": PASSWORD, "roles": list(roles)}
    response = await client.post(f"{API}/users", json=body, headers=auth)
    assert response.status_code == 201, response.text


async def _login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"username": name, "password": password})


async def _auth(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    response = await _login(client, name, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _me(client: httpx.AsyncClient, auth: dict[str, str]) -> httpx.Response:
    return await client.get(f"{API}/users/me", headers=auth)


async def _patch(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, body: dict[str, object]
) -> httpx.Response:
    return await client.patch(f"{API}/users/{name}", json=body, headers=auth)


async def test_role_change_applies_at_next_login_and_ends_old_tokens(
    client, auth, unique: str, infra: Infra
) -> None:
    name = f"roles-{unique}"
    await _create(client, auth, name, "subscriber")
    old = await _auth(client, name)
    headers = {**auth, "X-Correlation-ID": f"corr-{unique}"}
    async with expect_event("aigw.user.updated", name) as updated:
        response = await _patch(client, headers, name, {"roles": ["publisher", "subscriber"]})
    assert response.status_code == 200, response.text
    assert (response.json()["roles"], response.json()["disabled"]) == (
        ["publisher", "subscriber"],
        False,
    )
    assert (await _me(client, old)).status_code == 401  # minted with the old roles
    assert (await _me(client, await _auth(client, name))).json()["roles"] == [
        "publisher",
        "subscriber",
    ]
    event = await updated
    assert event.actor == "admin"
    assert event.correlationid == f"corr-{unique}"
    assert event.data["changes"] == ["roles"]
    assert event.data["roles"] == ["publisher", "subscriber"]


@pytest.mark.parametrize("body", [{"roles": ["root"]}, {"roles": []}, {"disabled": "maybe"}])
async def test_invalid_changes_are_422(client, auth, unique: str, body) -> None:
    name = f"bad-{unique}"
    await _create(client, auth, name, "subscriber")
    assert (await _patch(client, auth, name, body)).status_code == 422
    assert (await _patch(client, auth, f"nobody-{unique}", {"disabled": True})).status_code == 404


async def test_disabled_user_is_refused_like_a_wrong_password(client, auth, unique: str) -> None:
    name = f"off-{unique}"
    await _create(client, auth, name, "publisher")
    token = await _auth(client, name)
    assert (await _patch(client, auth, name, {"disabled": True})).json()["disabled"] is True
    refused, wrong = await _login(client, name), await _login(client, name, "not-the-password")
    assert refused.status_code == wrong.status_code == 401
    assert refused.json() == wrong.json()
    assert (await _me(client, token)).status_code == 401
    listed = (await client.get(f"{API}/users", headers=auth)).json()["list"]
    assert next(u for u in listed if u["username"] == name)["disabled"] is True
    assert (await _patch(client, auth, name, {"disabled": False})).status_code == 200
    assert (await _me(client, await _auth(client, name))).status_code == 200


async def test_deleted_user_is_gone_for_good(client, auth, unique: str, infra: Infra) -> None:
    name = f"gone-{unique}"
    await _create(client, auth, name, "subscriber")
    token = await _auth(client, name)
    async with expect_event("aigw.user.deleted", name) as deleted:
        assert (await client.delete(f"{API}/users/{name}", headers=auth)).status_code == 204
    refused, unknown = await _login(client, name), await _login(client, f"never-{unique}")
    assert refused.status_code == 401
    assert refused.json() == unknown.json()
    assert (await _me(client, token)).status_code == 401
    listed = (await client.get(f"{API}/users", headers=auth)).json()["list"]
    assert name not in [u["username"] for u in listed]
    # the name stays taken: applications and APIs name their owner by username
    again = {"username": name, "password": PASSWORD, "roles": ["subscriber"]}
    assert (await client.post(f"{API}/users", json=again, headers=auth)).status_code == 409
    assert (await client.delete(f"{API}/users/{name}", headers=auth)).status_code == 404
    event = await deleted
    assert (event.data, event.actor) == ({"username": name}, "admin")


async def test_an_admin_cannot_demote_disable_or_delete_themselves(client, auth) -> None:
    for body in ({"roles": ["publisher"]}, {"disabled": True}):
        response = await _patch(client, auth, "admin", body)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == 409
    assert (await client.delete(f"{API}/users/admin", headers=auth)).status_code == 409
    assert (await _me(client, auth)).json()["roles"] == ["admin", "publisher", "subscriber"]
    # keeping the admin role is fine
    assert (await _patch(client, auth, "admin", {"roles": ["admin"]})).status_code == 200


async def test_two_admins_demoting_each_other_leave_one_admin(client, auth, unique: str) -> None:
    other = f"admin2-{unique}"
    await _create(client, auth, other, "admin")
    other_auth = await _auth(client, other)
    first = await _auth(client, "admin", ADMIN_PASSWORD)
    answers = await asyncio.gather(
        _patch(client, first, other, {"roles": ["subscriber"]}),
        _patch(client, other_auth, "admin", {"roles": ["subscriber"]}),
    )
    assert sorted(a.status_code for a in answers) in ([200, 401], [200, 409]), answers
    roles = [
        (await _me(client, await _auth(client, who, password))).json()["roles"]
        for who, password in (("admin", ADMIN_PASSWORD), (other, PASSWORD))
    ]
    assert sum("admin" in r for r in roles) == 1, roles


async def test_admin_resets_a_password(client, auth, unique: str, infra: Infra) -> None:
    name = f"reset-{unique}"
    await _create(client, auth, name, "publisher")
    token = await _auth(client, name)
    path = f"{API}/users/{name}/password"
    assert (await client.post(path, json={"password": "short"}, headers=auth)).status_code == 422
    async with expect_event("aigw.user.updated", name) as updated:
        response = await client.post(path, json={"password": NEW_PASSWORD}, headers=auth)
    assert response.status_code == 204, response.text
    assert (await _login(client, name)).status_code == 401
    assert (await _me(client, token)).status_code == 401
    assert (await _me(client, await _auth(client, name, NEW_PASSWORD))).status_code == 200
    event = await updated
    assert event.data["changes"] == ["password"]


async def test_user_changes_own_password(client, auth, unique: str) -> None:
    name = f"self-{unique}"
    await _create(client, auth, name, "subscriber")
    old = await _auth(client, name)
    path = f"{API}/users/me/password"
    short = {"currentPassword": PASSWORD, "newPassword": "short"}
    assert (await client.put(path, json=short, headers=old)).status_code == 422
    body = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    response = await client.put(path, json=body, headers=old)
    assert response.status_code == 200, response.text
    new = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert (await _me(client, new)).status_code == 200
    assert (await _me(client, old)).status_code == 401  # every other session ends
    assert (await _login(client, name)).status_code == 401
    assert (await _login(client, name, NEW_PASSWORD)).status_code == 200


async def test_wrong_current_password_counts_as_a_failed_login(client, auth, unique) -> None:
    name = f"guess-{unique}"
    await _create(client, auth, name, "subscriber")
    stolen = await _auth(client, name)
    guess = {"currentPassword": "guess-number-1", "newPassword": NEW_PASSWORD}
    for _ in range(LIMIT):
        response = await client.put(f"{API}/users/me/password", json=guess, headers=stolen)
        assert response.status_code == 403, response.text
    # the throttle has counted the guesses: the next try, even the right password, is 429
    right = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    locked = await client.put(f"{API}/users/me/password", json=right, headers=stolen)
    assert locked.status_code == 429
    assert (await _login(client, name)).status_code == 429


async def test_user_events_carry_no_secret(client, auth, unique: str, infra: Infra) -> None:
    name = f"audit-{unique}"
    deleted = "aigw.user.deleted"
    async with expect_event("aigw.user.>", name, where=lambda e: e.type == deleted) as user:
        await _create(client, auth, name, "subscriber")
        signed_in = await _auth(client, name)
        password = {"password": NEW_PASSWORD}
        await client.post(f"{API}/users/{name}/password", json=password, headers=auth)
        signed_in = await _auth(client, name, NEW_PASSWORD)
        third = "third-secret-pass"
        body = {"currentPassword": NEW_PASSWORD, "newPassword": third}
        assert (
            await client.put(f"{API}/users/me/password", json=body, headers=signed_in)
        ).status_code == 200
        await _patch(client, auth, name, {"disabled": True})
        await client.delete(f"{API}/users/{name}", headers=auth)
    events = [e for e in user.seen if e.subject == name]
    assert [e.type for e in events] == [
        "aigw.user.created",
        "aigw.user.updated",
        "aigw.user.updated",
        "aigw.user.updated",
        "aigw.user.deleted",
    ]
    assert [e.actor for e in events] == ["admin", "admin", name, "admin", "admin"]
    raw = json.dumps([e.model_dump(mode="json") for e in events])
    for secret in (PASSWORD, NEW_PASSWORD, third, "argon2", "password_hash"):
        assert secret not in raw
