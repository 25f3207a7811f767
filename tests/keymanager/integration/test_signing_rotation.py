"""Signing-key rotation: new tokens carry the new kid, tokens signed by the previous key keep
verifying until they expire, every keymanager process follows, and the stream announces each
key (the first one too) without private material."""

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from aigw.common.auth import JwksCache, TokenVerifier
from aigw.common.errors import Unauthorized
from aigw.keymanager.settings import Settings
from tests.support.events import expect_event, stream_events, wait_for_event
from tests.support.infra import Infra
from tests.support.keymanager import API, admin_token, login_as, running, store_dump
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

PUBLIC_JWK_FIELDS = {"kty", "crv", "x", "kid", "alg", "use"}


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _verifier(client: httpx.AsyncClient) -> TokenVerifier:
    """What publisher does, with the JWKS fetched from this keymanager over its API."""

    async def fetch() -> dict[str, Any]:
        response = await client.get(f"{API}/jwks")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    return TokenVerifier(JwksCache(fetch, min_refresh_seconds=0.0))


async def _rotate(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.post(
        f"{API}/signing-keys/rotate", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _jwks_kids(client: httpx.AsyncClient) -> list[str]:
    return [k["kid"] for k in (await client.get(f"{API}/jwks")).json()["keys"]]


async def test_old_tokens_verify_and_new_ones_carry_the_new_kid(client) -> None:
    old_token = await admin_token(client)
    verifier = _verifier(client)
    assert (await verifier.verify(old_token)).subject == "admin"  # caches the first key
    rotated = await _rotate(client, old_token)
    assert rotated.keys() == {"kid", "previousKid", "previousValidUntil"}
    assert datetime.fromisoformat(rotated["previousValidUntil"]) > datetime.now(UTC)
    assert rotated["previousKid"] == _kid(old_token) != rotated["kid"]
    new_token = await admin_token(client)
    assert _kid(new_token) == rotated["kid"]
    assert sorted(await _jwks_kids(client)) == sorted([rotated["kid"], rotated["previousKid"]])
    assert (await verifier.verify(new_token)).subject == "admin"  # unknown kid: refetched
    assert (await verifier.verify(old_token)).subject == "admin"
    me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {old_token}"})
    assert me.status_code == 200  # keymanager itself still accepts it


async def test_rotating_twice_keeps_every_unexpired_key(client) -> None:
    first = await admin_token(client)
    second_kid = (await _rotate(client, first))["kid"]
    third_kid = (await _rotate(client, await admin_token(client)))["kid"]
    assert set(await _jwks_kids(client)) == {_kid(first), second_kid, third_kid}
    assert (await _verifier(client).verify(first)).subject == "admin"


async def test_only_admins_rotate(client, settings: Settings, unique: str) -> None:
    publisher = await login_as(client, settings, f"pub-{unique}", ["publisher", "subscriber"])
    before = await _jwks_kids(client)
    response = await client.post(f"{API}/signing-keys/rotate", headers=publisher)
    assert response.status_code == 403
    assert (await client.post(f"{API}/signing-keys/rotate")).status_code == 401
    assert await _jwks_kids(client) == before


async def test_every_process_follows_a_rotation(settings: Settings) -> None:
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(running(settings))
        second = await stack.enter_async_context(running(settings))
        old_token = await admin_token(second)
        new_kid = (await _rotate(first, await admin_token(first)))["kid"]
        assert _kid(await admin_token(second)) == new_kid
        assert new_kid in await _jwks_kids(second)
        new_token = await admin_token(first)
        for token in (old_token, new_token):
            me = await second.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200


async def test_the_stream_announces_each_key_without_private_material(
    client, settings: Settings, infra: Infra
) -> None:
    token = await admin_token(client)
    first_kid = _kid(token)
    first = await wait_for_event(infra.nats_url, "aigw.signingkey.rotated", first_kid)
    assert first.data["previous_kid"] is None
    assert first.data["jwk"].keys() == PUBLIC_JWK_FIELDS
    before = datetime.now(UTC)
    async with expect_event("aigw.signingkey.rotated") as announced_rotation:
        rotated = await _rotate(client, token)
        announced_rotation.about(rotated["kid"])
    event = await announced_rotation
    assert event.actor == "admin"
    assert event.data["jwk"].keys() == PUBLIC_JWK_FIELDS
    assert event.data["jwk"] in (await client.get(f"{API}/jwks")).json()["keys"]
    assert event.data["previous_kid"] == first_kid
    until = datetime.fromisoformat(event.data["previous_valid_until"])
    assert until - before >= settings.signing_key_retire_after - timedelta(seconds=1)
    announced = await stream_events(infra.nats_url, "aigw.signingkey.rotated")
    assert announced
    assert all("d" not in e.data["jwk"] for e in announced)  # never the private part


async def test_private_keys_are_sealed_at_rest(client, settings: Settings) -> None:
    await _rotate(client, await admin_token(client))
    dump = await store_dump(settings)
    assert '"d":' not in dump
    assert "sealed_private_key" in dump


async def test_a_retired_key_leaves_the_jwks_when_its_tokens_expired(settings: Settings) -> None:
    short = settings.model_copy(
        update={
            "token_ttl_seconds": 4,  # long enough to make the rotate call with it
            "oauth_token_ttl_seconds": 1,
            "signing_key_leeway_seconds": 0,
        }
    )
    async with running(short) as client:
        old_token = await admin_token(client)
        rotated = await _rotate(client, old_token)
        kids = await eventually(
            lambda: _jwks_kids(client),
            lambda kids: rotated["previousKid"] not in kids,
            timeout=30,
            interval=0.2,
        )
        assert kids == [rotated["kid"]]
        with pytest.raises(Unauthorized):
            await _verifier(client).verify(old_token)
