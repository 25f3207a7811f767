"""Repeated failed logins for one username are slowed, then refused with 429 for a while, the
same for unknown names, in every keymanager process; the real user gets back in afterwards."""

import asyncio
import contextlib

import httpx
import pytest

from aigw.keymanager.settings import Settings
from tests.keymanager.integration.support import ADMIN_PASSWORD, API, running

pytestmark = pytest.mark.integration

LIMIT = 3
LOCK_SECONDS = 2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "login_max_failures": LIMIT,
            "login_lock_seconds": LOCK_SECONDS,
            "login_max_delay_seconds": 0.01,
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
    assert locked_known.json() == locked_unknown.json()


async def test_the_real_user_gets_back_in_after_the_lock(client) -> None:
    await _fail(client, "admin", LIMIT)
    _assert_locked(await _login(client, "admin", ADMIN_PASSWORD))
    deadline = asyncio.get_running_loop().time() + 10 * LOCK_SECONDS
    while (response := await _login(client, "admin", ADMIN_PASSWORD)).status_code == 429:
        assert asyncio.get_running_loop().time() < deadline, "still locked long after the lock"
        await asyncio.sleep(0.2)
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
