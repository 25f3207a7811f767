"""Repeated failed logins for one username are slowed, then refused with 429 for a while, the
same for unknown names, in every keymanager process; the real user gets back in afterwards.
Attempts are counted before the password is checked, so a concurrent burst gets no more
guesses than a sequential one; budgets per (username, source), per source and per username
keep a stranger's address from locking the real user out."""

import asyncio
import contextlib
import re

import httpx
import pytest

from aigw.keymanager.settings import Settings
from tests.support.keymanager import (
    ADMIN_PASSWORD,
    API,
    client_from,
    running,
    serving,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

LIMIT = 3
SOURCE_LIMIT = 7
USER_LIMIT = 9
LOCK_SECONDS = 5  # outlasts a few argon2 checks on a loaded machine
BURST = 40


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "login_max_failures": LIMIT,
            "login_lock_seconds": LOCK_SECONDS,
            "login_max_delay_seconds": 0.01,
            "login_source_max_failures": SOURCE_LIMIT,
            "login_user_max_failures": USER_LIMIT,
        }
    )


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"username": username, "password": password})


async def _fail(client: httpx.AsyncClient, username: str, times: int) -> list[int]:
    return [(await _login(client, username, "wrong")).status_code for _ in range(times)]


def _assert_locked(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= LOCK_SECONDS
    assert response.json()["code"] == 429


def _without_seconds(body: dict[str, object]) -> dict[str, object]:
    """The wait left differs with when each lock began, not with who exists."""
    return {name: re.sub(r"[0-9]+ s", "N s", str(value)) for name, value in body.items()}


async def test_locked_after_the_limit_even_with_the_right_password(client) -> None:
    assert await _fail(client, "admin", LIMIT) == [401] * LIMIT
    _assert_locked(await _login(client, "admin", ADMIN_PASSWORD))
    _assert_locked(await _login(client, "admin", "wrong"))


async def test_unknown_users_get_the_same_treatment(client) -> None:
    known, unknown = await _fail(client, "admin", LIMIT), await _fail(client, "ghost", LIMIT)
    assert known == unknown == [401] * LIMIT
    locked_known, locked_unknown = (
        await _login(client, "admin", "x"),
        await _login(client, "ghost", "x"),
    )
    _assert_locked(locked_known)
    _assert_locked(locked_unknown)
    assert _without_seconds(locked_known.json()) == _without_seconds(locked_unknown.json())


async def test_the_real_user_gets_back_in_after_the_lock(client) -> None:
    await _fail(client, "admin", LIMIT)
    _assert_locked(await _login(client, "admin", ADMIN_PASSWORD))
    response = await eventually(
        lambda: _login(client, "admin", ADMIN_PASSWORD),
        lambda response: response.status_code != 429,
        timeout=10 * LOCK_SECONDS,
        interval=0.2,
        what="the lock lifted",
    )
    assert response.status_code == 200


async def test_a_success_resets_the_count(client) -> None:
    await _fail(client, "admin", LIMIT - 1)
    assert (await _login(client, "admin", ADMIN_PASSWORD)).status_code == 200
    assert await _fail(client, "admin", LIMIT - 1) == [401] * (LIMIT - 1)
    assert (await _login(client, "admin", ADMIN_PASSWORD)).status_code == 200


async def test_one_user_locked_does_not_lock_another(client, settings: Settings) -> None:
    await _fail(client, "ghost", LIMIT)
    _assert_locked(await _login(client, "ghost", "x"))
    assert (await _login(client, "admin", ADMIN_PASSWORD)).status_code == 200


async def test_processes_share_the_count(settings: Settings) -> None:
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(running(settings))
        second = await stack.enter_async_context(running(settings))
        await _fail(first, "admin", LIMIT - 1)
        await _fail(second, "admin", 1)
        _assert_locked(await _login(first, "admin", ADMIN_PASSWORD))
        _assert_locked(await _login(second, "admin", ADMIN_PASSWORD))


async def test_concurrent_failures_are_all_counted(client) -> None:
    statuses = await asyncio.gather(*(_login(client, "admin", "wrong") for _ in range(LIMIT)))
    assert [r.status_code for r in statuses] == [401] * LIMIT
    _assert_locked(await _login(client, "admin", ADMIN_PASSWORD))


async def test_a_concurrent_burst_is_evaluated_only_up_to_the_limit(client) -> None:
    """40 wrong guesses and the right one at once: the attempts are counted before any password
    is checked, so at most LIMIT are evaluated and the others answer 429 unverified."""
    guesses = [_login(client, "admin", f"wrong-{n}") for n in range(BURST)]
    responses = await asyncio.gather(*guesses, _login(client, "admin", ADMIN_PASSWORD))
    statuses = [r.status_code for r in responses]
    evaluated = statuses.count(401) + statuses.count(200)
    assert evaluated <= LIMIT, statuses
    assert statuses.count(429) == BURST + 1 - evaluated, statuses
    for refused in (r for r in responses if r.status_code == 429):
        _assert_locked(refused)


async def test_a_concurrent_burst_of_wrong_guesses_locks_the_name(client) -> None:
    responses = await asyncio.gather(*(_login(client, "admin", "wrong") for _ in range(BURST)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(401) == LIMIT, statuses
    assert statuses.count(429) == BURST - LIMIT, statuses
    _assert_locked(await _login(client, "admin", ADMIN_PASSWORD))


async def test_a_stranger_does_not_lock_admin_out_of_another_address(settings: Settings) -> None:
    async with (
        serving(settings) as app,
        client_from(app, "203.0.113.66") as stranger,
        client_from(app, "198.51.100.7") as admin,
    ):
        hammering = [await _login(stranger, "admin", f"guess-{n}") for n in range(3 * LIMIT)]
        assert [r.status_code for r in hammering] == [401] * LIMIT + [429] * (2 * LIMIT)
        assert (await _login(admin, "admin", ADMIN_PASSWORD)).status_code == 200
        _assert_locked(await _login(stranger, "admin", ADMIN_PASSWORD))


async def test_one_address_spraying_names_is_locked_before_the_names(settings: Settings) -> None:
    names = [f"user{n}" for n in range(SOURCE_LIMIT)]
    async with (
        serving(settings) as app,
        client_from(app, "203.0.113.66") as sprayer,
        client_from(app, "198.51.100.7") as other,
    ):
        for name in names:  # fewer than LIMIT each, SOURCE_LIMIT in all
            assert (await _login(sprayer, name, "wrong")).status_code == 401
        _assert_locked(await _login(sprayer, "admin", ADMIN_PASSWORD))
        _assert_locked(await _login(sprayer, "ghost", "wrong"))
        assert (await _login(other, "admin", ADMIN_PASSWORD)).status_code == 200
        assert (await _login(other, names[0], "wrong")).status_code == 401


async def test_many_addresses_lock_the_name_for_everyone(settings: Settings) -> None:
    """The per-username budget caps a distributed guesser; it takes USER_LIMIT failures, i.e.
    several addresses, and lasts LOCK_SECONDS."""
    addresses = [f"203.0.113.{n}" for n in range(1, USER_LIMIT // LIMIT + 1)]
    async with serving(settings) as app:
        for address in addresses:
            async with client_from(app, address) as guesser:
                assert await _fail(guesser, "admin", LIMIT) == [401] * LIMIT
        async with client_from(app, "198.51.100.7") as admin:
            _assert_locked(await _login(admin, "admin", ADMIN_PASSWORD))


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    settings: Settings,
) -> None:
    def forwarded(n: int) -> dict[str, str]:
        return {"X-Forwarded-For": f"192.0.2.{n}"}

    async with serving(settings) as app, client_from(app, "203.0.113.66") as stranger:
        for n in range(LIMIT):
            response = await stranger.post(
                f"{API}/auth/login",
                json={"username": "admin", "password": "wrong"},
                headers=forwarded(n),
            )
            assert response.status_code == 401
        locked = await stranger.post(
            f"{API}/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
            headers=forwarded(LIMIT),
        )
        _assert_locked(locked)
    trusting = settings.model_copy(update={"trusted_proxies": "203.0.113.0/24"})
    async with serving(trusting) as app, client_from(app, "203.0.113.66") as proxy:
        for _ in range(LIMIT):
            body = {"username": "admin", "password": "wrong"}
            response = await proxy.post(f"{API}/auth/login", json=body, headers=forwarded(1))
            assert response.status_code == 401
        body = {"username": "admin", "password": ADMIN_PASSWORD}
        _assert_locked(await proxy.post(f"{API}/auth/login", json=body, headers=forwarded(1)))
        other = await proxy.post(f"{API}/auth/login", json=body, headers=forwarded(2))
        assert other.status_code == 200, other.text
