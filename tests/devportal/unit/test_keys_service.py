"""API keys and OAuth2 clients: devportal relays to keymanager in the caller's name, and only
for the caller's own application and that application's own keys."""

import json

import pytest

from aigw.common.actor import Actor
from aigw.common.errors import NotFound
from aigw.devportal.applications.schemas import ApplicationCreate
from aigw.devportal.keys.schemas import ApiKeyCreate
from tests.support.devportal_memory import MemoryDevportal, StoodInKeymanager


async def _app(portal: MemoryDevportal, actor: Actor, name: str = "keyed") -> str:
    return (await portal.applications.create(actor, ApplicationCreate(name=name))).id


async def test_a_key_is_issued_in_the_callers_name_and_shown_once(
    portal: MemoryDevportal, alice: Actor, keymanager: StoodInKeymanager
) -> None:
    app_id = await _app(portal, alice)
    body = ApiKeyCreate(key_type="SANDBOX", expires_in=60)

    key = await portal.keys.generate(alice, keymanager.client(), app_id, body)

    assert key.api_key.startswith("aigw_")
    [request] = keymanager.fake.requests
    assert request.headers["authorization"] == keymanager.authorization
    assert request.headers["x-correlation-id"] == keymanager.correlation_id
    assert json.loads(request.content) == {
        "applicationId": app_id,
        "keyType": "SANDBOX",
        "apiId": None,
        "expiresIn": 60,
    }
    [listed] = (await portal.keys.list_keys(alice, keymanager.client(), app_id)).list
    assert listed.id == key.id
    assert key.api_key not in listed.model_dump_json()


async def test_someone_elses_application_never_reaches_keymanager(
    portal: MemoryDevportal, alice: Actor, bob: Actor, keymanager: StoodInKeymanager
) -> None:
    app_id = await _app(portal, alice)
    client = keymanager.client()
    body = ApiKeyCreate(key_type="PRODUCTION")

    with pytest.raises(NotFound, match=f"Application '{app_id}' does not exist"):
        await portal.keys.generate(bob, client, app_id, body)
    with pytest.raises(NotFound):
        await portal.keys.list_keys(bob, client, app_id)
    with pytest.raises(NotFound):
        await portal.oauth.generate(bob, client, app_id, "PRODUCTION")
    assert keymanager.fake.requests == []


async def test_a_key_of_another_application_is_missing_and_stays_untouched(
    portal: MemoryDevportal, alice: Actor, keymanager: StoodInKeymanager
) -> None:
    first, second = await _app(portal, alice, "first"), await _app(portal, alice, "second")
    client = keymanager.client()
    key = await portal.keys.generate(alice, client, first, ApiKeyCreate(key_type="PRODUCTION"))

    with pytest.raises(NotFound, match=f"API key '{key.id}' does not exist for this application"):
        await portal.keys.regenerate(alice, client, second, key.id)
    with pytest.raises(NotFound):
        await portal.keys.revoke(alice, client, second, key.id)

    assert [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in keymanager.fake.requests] == [
        ("POST", "api-keys"),
        ("GET", "api-keys"),
        ("GET", "api-keys"),
    ]
    await portal.keys.revoke(alice, client, first, key.id)
    assert key.id not in keymanager.fake.keys


async def test_a_consumer_key_of_another_application_is_missing_and_stays_live(
    portal: MemoryDevportal, alice: Actor, keymanager: StoodInKeymanager
) -> None:
    first, second = await _app(portal, alice, "first"), await _app(portal, alice, "second")
    client = keymanager.client()
    pair = await portal.oauth.generate(alice, client, first, "SANDBOX")
    assert pair.consumer_secret.startswith("secret-")

    with pytest.raises(NotFound, match="does not exist for this application"):
        await portal.oauth.revoke(alice, client, second, pair.consumer_key)
    assert keymanager.fake.clients[pair.consumer_key]["revoked"] is False

    await portal.oauth.revoke(alice, client, first, pair.consumer_key)
    [summary] = await portal.oauth.list_keys(alice, client, first)
    assert (summary.consumer_key, summary.revoked) == (pair.consumer_key, True)
