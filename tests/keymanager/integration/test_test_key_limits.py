"""Test keys (keys bound to one API: the portal's "Get Test Key") are limited per user: a few
live ones per API, held under concurrent requests, and a few new ones a minute."""

import asyncio
from typing import Any

import httpx
import pytest

from aigw.common.service_auth import ServiceAuth
from aigw.keymanager.settings import Settings
from tests.support.keymanager import API, login_as, running
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def limited(settings: Settings, max_live: int, per_minute: int) -> Settings:
    return settings.model_copy(
        update={"test_key_max_live": max_live, "test_key_issue_per_minute": per_minute}
    )


async def get_test_key(
    client: httpx.AsyncClient,
    user: dict[str, str],
    as_devportal: ServiceAuth,
    subject: str,
    api_id: str,
    expires_in: int = 3600,
) -> httpx.Response:
    """What devportal sends for "Get Test Key"."""
    body: dict[str, Any] = {
        "applicationId": f"testkey:{subject}",
        "keyType": "PRODUCTION",
        "apiId": api_id,
        "expiresIn": expires_in,
    }
    return await client.post(f"{API}/api-keys", json=body, headers=user, auth=as_devportal)


async def test_live_test_keys_are_capped_under_a_concurrent_burst(settings, as_devportal):
    async with running(limited(settings, max_live=3, per_minute=100)) as client:
        mallory = await login_as(client, settings, "mallory", ["subscriber"])
        trudy = await login_as(client, settings, "trudy", ["subscriber"])
        answers = await asyncio.gather(
            *(get_test_key(client, mallory, as_devportal, "mallory", "api-1") for _ in range(12))
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201] * 3 + [429] * 9
        refused = next(a for a in answers if a.status_code == 429)
        assert refused.json()["code"] == 429
        assert refused.json()["message"] == "Too many live test keys"
        assert "3 live test keys for API 'api-1'" in refused.json()["description"]
        assert "expires" in refused.json()["description"]
        assert 3500 <= int(refused.headers["retry-after"]) <= 3600
        # the cap is per user and API
        assert (
            await get_test_key(client, mallory, as_devportal, "mallory", "api-2")
        ).status_code == 201
        assert (
            await get_test_key(client, trudy, as_devportal, "trudy", "api-1")
        ).status_code == 201
        listed = await client.get(f"{API}/api-keys", headers=mallory)
        live = [k for k in listed.json()["list"] if k["apiId"] == "api-1" and not k["revoked"]]
        assert len(live) == 3


async def test_a_revoked_or_expired_test_key_frees_its_place(settings, as_devportal):
    async with running(limited(settings, max_live=2, per_minute=100)) as client:
        mallory = await login_as(client, settings, "mallory", ["subscriber"])
        first = await get_test_key(client, mallory, as_devportal, "mallory", "api-1")
        short = await get_test_key(client, mallory, as_devportal, "mallory", "api-1", expires_in=1)
        assert (first.status_code, short.status_code) == (201, 201)
        full = await get_test_key(client, mallory, as_devportal, "mallory", "api-1")
        assert full.status_code == 429
        assert int(full.headers["retry-after"]) <= 2  # when the short-lived key expires

        revoked = await client.delete(f"{API}/api-keys/{first.json()['id']}", headers=mallory)
        assert revoked.status_code == 204
        again = await get_test_key(client, mallory, as_devportal, "mallory", "api-1")
        assert again.status_code == 201

        # once the short-lived key (1 s) expired, its place is free again
        after_expiry = await eventually(
            lambda: get_test_key(client, mallory, as_devportal, "mallory", "api-1"),
            lambda answer: answer.status_code != 429,
            timeout=3.0,
            interval=0.1,
        )
        assert after_expiry.status_code == 201
        assert (
            await get_test_key(client, mallory, as_devportal, "mallory", "api-1")
        ).status_code == 429


async def test_test_key_creation_is_rate_limited_per_user(settings, as_devportal):
    async with running(limited(settings, max_live=100, per_minute=4)) as client:
        mallory = await login_as(client, settings, "mallory", ["subscriber"])
        trudy = await login_as(client, settings, "trudy", ["subscriber"])
        answers = await asyncio.gather(
            *(get_test_key(client, mallory, as_devportal, "mallory", f"api-{n}") for n in range(10))
        )
        assert sorted(a.status_code for a in answers) == [201] * 4 + [429] * 6
        refused = next(a for a in answers if a.status_code == 429)
        assert refused.json()["message"] == "Too many test keys requested"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert (
            await get_test_key(client, trudy, as_devportal, "trudy", "api-0")
        ).status_code == 201


async def test_a_test_key_cannot_be_regenerated(client, settings, as_devportal):
    mallory = await login_as(client, settings, "mallory", ["subscriber"])
    issued = await get_test_key(client, mallory, as_devportal, "mallory", "api-1")
    url = f"{API}/api-keys/{issued.json()['id']}/regenerate"
    answer = await client.post(url, headers=mallory, auth=as_devportal)
    assert answer.status_code == 409  # it would outlive its place under the cap
    assert "test key" in answer.json()["description"]
