"""Users and roles: the admin creates users, devportal-signed sign-up creates subscribers."""

import asyncio
import json

import httpx
import pytest

from aigw.common.service_auth import ServiceAuth
from aigw.keymanager.settings import Settings
from tests.support.events import expect_event, stream_events
from tests.support.infra import Infra
from tests.support.keymanager import API, client_from, login_as, serving

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse-battery"


async def _create(
    client: httpx.AsyncClient, auth: dict[str, str], username: str, roles: list[str]
) -> httpx.Response:
    body = {"username": username, "password": PASSWORD, "roles": roles}
    return await client.post(f"{API}/users", json=body, headers=auth)


async def _login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    body = {"username": username, "password": password}
    response = await client.post(f"{API}/auth/login", json=body)
    assert response.status_code == 200, response.text
    return f"Bearer {response.json()['access_token']}"


async def test_admin_creates_a_publisher_who_can_log_in(client, auth, unique: str) -> None:
    name = f"pub.{unique}@example.org"
    response = await _create(client, auth, name, ["publisher"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body.keys() == {"username", "roles", "disabled", "createdTime"}
    assert (body["username"], body["roles"]) == (name, ["publisher"])
    me = await client.get(f"{API}/users/me", headers={"Authorization": await _login(client, name)})
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["roles"]) == (name, ["publisher"])


async def test_admin_lists_users_without_secrets(client, auth, unique: str) -> None:
    await _create(client, auth, f"sub-{unique}", ["subscriber", "subscriber"])
    response = await client.get(f"{API}/users", headers=auth)
    assert response.status_code == 200
    users = {u["username"]: u for u in response.json()["list"]}
    assert users[f"sub-{unique}"]["roles"] == ["subscriber"]  # duplicates collapse
    assert response.json()["count"] == len(users) >= 2
    assert "password" not in response.text.lower()
    assert "argon2" not in response.text


async def test_duplicate_username_is_409(client, auth, unique: str) -> None:
    assert (await _create(client, auth, f"dup-{unique}", ["publisher"])).status_code == 201
    again = await _create(client, auth, f"dup-{unique}", ["subscriber"])
    assert again.status_code == 409
    assert again.json()["code"] == 409


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab", "password": PASSWORD, "roles": ["publisher"]},
        {"username": "x" * 65, "password": PASSWORD, "roles": ["publisher"]},
        {"username": "has space", "password": PASSWORD, "roles": ["publisher"]},
        {"username": "alice/evil", "password": PASSWORD, "roles": ["publisher"]},
        {"username": "alice", "password": "short", "roles": ["publisher"]},
        {"username": "alice", "password": PASSWORD, "roles": []},
        {"username": "alice", "password": PASSWORD, "roles": ["root"]},
        {"username": "alice", "password": PASSWORD},
        {"username": 42, "password": PASSWORD, "roles": ["publisher"]},
    ],
)
async def test_invalid_user_is_422_and_leaves_no_trace(client, auth, body, infra: Infra) -> None:
    response = await client.post(f"{API}/users", json=body, headers=auth)
    assert response.status_code == 422, response.text
    listed = (await client.get(f"{API}/users", headers=auth)).json()["list"]
    assert [u["username"] for u in listed] == ["admin"]


@pytest.mark.parametrize("roles", [["publisher"], ["subscriber"]])
async def test_only_admins_manage_users(client, settings: Settings, roles, unique: str) -> None:
    caller = await login_as(client, settings, f"user-{unique}", roles)
    assert (await _create(client, caller, f"new-{unique}", ["admin"])).status_code == 403
    assert (await client.get(f"{API}/users", headers=caller)).status_code == 403
    assert (await client.get(f"{API}/users/me", headers=caller)).status_code == 200


async def test_users_endpoints_need_a_token(client) -> None:
    assert (await client.get(f"{API}/users/me")).status_code == 401
    assert (await client.get(f"{API}/users")).status_code == 401
    body = {"username": "nobody", "password": PASSWORD, "roles": ["admin"]}
    assert (await client.post(f"{API}/users", json=body)).status_code == 401


async def test_user_created_event_carries_no_secret(client, auth, infra: Infra, unique) -> None:
    name = f"audited-{unique}"
    async with expect_event("aigw.user.created", name) as created:
        await _create(client, auth, name, ["publisher", "subscriber"])
    event = await created
    assert event.data == {"username": name, "roles": ["publisher", "subscriber"]}
    assert event.actor == "admin"
    raw = json.dumps([e.model_dump(mode="json") for e in await stream_events(infra.nats_url)])
    assert PASSWORD not in raw
    assert "argon2" not in raw


async def test_signup_creates_a_subscriber_only_for_devportal(
    client, as_devportal: ServiceAuth, unique: str, infra: Infra
) -> None:
    name = f"dev-{unique}"
    body = {"username": name, "password": PASSWORD, "roles": ["admin"]}
    response = await client.post(f"{API}/users/signup", json=body, auth=as_devportal)
    assert response.status_code == 422  # a sign-up chooses no roles
    assert "roles: unknown field" in response.json()["description"]
    del body["roles"]
    async with expect_event("aigw.user.created", name) as created:
        response = await client.post(f"{API}/users/signup", json=body, auth=as_devportal)
    assert response.status_code == 201, response.text
    assert response.json()["roles"] == ["subscriber"]
    claims_me = await client.get(
        f"{API}/users/me", headers={"Authorization": await _login(client, name)}
    )
    assert claims_me.json()["roles"] == ["subscriber"]
    event = await created
    assert event.data["roles"] == ["subscriber"]


@pytest.mark.parametrize("service", [None, "publisher"])
async def test_signup_refuses_other_callers(
    client, secret_key: str, service: str | None, unique: str
) -> None:
    signer = ServiceAuth(secret_key, service) if service else None
    body = {"username": f"x-{unique}", "password": PASSWORD}
    response = await client.post(f"{API}/users/signup", json=body, auth=signer)
    assert response.status_code == 403
    assert "developer portal" in response.json()["description"]


async def test_signup_duplicate_is_409(client, as_devportal: ServiceAuth, unique: str) -> None:
    body = {"username": f"twice-{unique}", "password": PASSWORD}
    first = await client.post(f"{API}/users/signup", json=body, auth=as_devportal)
    assert first.status_code == 201
    second = await client.post(f"{API}/users/signup", json=body, auth=as_devportal)
    assert second.status_code == 409


async def test_signups_are_limited_per_calling_address(
    settings: Settings, as_devportal: ServiceAuth, unique: str
) -> None:
    """A burst of (signed) sign-ups from one address: the first `signup_per_minute` are made,
    the rest answer 429 with Retry-After; another address is not held up."""
    limited = settings.model_copy(update={"signup_per_minute": 3})

    async def signup(client: httpx.AsyncClient, n: int) -> httpx.Response:
        body = {"username": f"burst{n}-{unique}", "password": PASSWORD}
        return await client.post(f"{API}/users/signup", json=body, auth=as_devportal)

    async with (
        serving(limited) as app,
        client_from(app, "203.0.113.9") as flooder,
        client_from(app, "198.51.100.20") as other,
    ):
        responses = await asyncio.gather(*(signup(flooder, n) for n in range(10)))
        statuses = [r.status_code for r in responses]
        assert sorted(statuses) == [201] * 3 + [429] * 7, statuses
        refused = next(r for r in responses if r.status_code == 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["code"] == 429
        assert refused.json()["message"] == "Too many sign-ups"
        assert (await signup(other, 99)).status_code == 201
