"""An application's OAuth2 consumer key and secret, through the keymanager stand-in, which
verifies devportal's service signature as keymanager does."""

import json

import httpx
import pytest

from aigw.common.crypto import generate_master_key
from tests.support.fake_keymanager import FakeKeymanager, assert_signed_by_devportal

pytestmark = pytest.mark.integration

CLIENTS = "/api/keymanager/v1/oauth-clients"


@pytest.fixture
def keymanager(secret_key: str) -> FakeKeymanager:
    return FakeKeymanager(secret_key=secret_key)


@pytest.fixture
async def app_id(devportal: httpx.AsyncClient) -> str:
    response = await devportal.post("/applications", json={"name": "oauth-app"})
    return str(response.json()["id"])


async def _generate(devportal: httpx.AsyncClient, app_id: str, key_type: str = "PRODUCTION"):
    return await devportal.post(f"/applications/{app_id}/oauth-keys", json={"keyType": key_type})


async def test_generate_shows_the_consumer_secret_once(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str, secret_key: str
) -> None:
    response = await _generate(devportal, app_id, "SANDBOX")

    assert response.status_code == 201, response.text
    keys = response.json()
    assert set(keys) == {"consumerKey", "consumerSecret", "keyType"}
    assert keys["keyType"] == "SANDBOX"
    assert keys["consumerKey"] in keymanager.clients
    sent = keymanager.last()
    assert (sent.method, sent.url.path) == ("POST", CLIENTS)
    assert sent.headers["authorization"] == devportal.headers["authorization"]
    assert_signed_by_devportal(sent, secret_key)
    assert json.loads(sent.content) == {"applicationId": app_id, "keyType": "SANDBOX"}


async def test_list_has_no_secrets(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str, secret_key: str
) -> None:
    keys = (await _generate(devportal, app_id)).json()

    response = await devportal.get(f"/applications/{app_id}/oauth-keys")

    assert response.status_code == 200
    [item] = response.json()["list"]
    assert set(item) == {"consumerKey", "keyType", "createdTime", "revoked"}
    assert (item["consumerKey"], item["revoked"]) == (keys["consumerKey"], False)
    assert keys["consumerSecret"] not in response.text
    assert keymanager.last().url.params["applicationId"] == app_id
    assert_signed_by_devportal(keymanager.last(), secret_key)


async def test_delete_revokes_the_consumer_secret(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str, secret_key: str
) -> None:
    keys = (await _generate(devportal, app_id)).json()

    url = f"/applications/{app_id}/oauth-keys/{keys['consumerKey']}"
    response = await devportal.delete(url)

    assert response.status_code == 204
    sent = keymanager.last()
    assert (sent.method, sent.url.path) == ("DELETE", f"{CLIENTS}/{keys['consumerKey']}")
    assert_signed_by_devportal(sent, secret_key)
    assert keymanager.clients[keys["consumerKey"]]["revoked"] is True
    listed = (await devportal.get(f"/applications/{app_id}/oauth-keys")).json()["list"]
    assert [k["revoked"] for k in listed] == [True]


async def test_a_consumer_key_of_another_application_is_404(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    other = (await devportal.post("/applications", json={"name": "other"})).json()["id"]
    keys = (await _generate(devportal, other)).json()

    response = await devportal.delete(f"/applications/{app_id}/oauth-keys/{keys['consumerKey']}")

    assert response.status_code == 404
    assert keymanager.clients[keys["consumerKey"]]["revoked"] is False
    assert all(r.method != "DELETE" for r in keymanager.requests)


async def test_someone_elses_application_is_404_without_calling_keymanager(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, bob: dict[str, str], app_id: str
) -> None:
    url = f"/applications/{app_id}/oauth-keys"
    assert (await devportal.post(url, json={"keyType": "SANDBOX"}, headers=bob)).status_code == 404
    assert (await devportal.get(url, headers=bob)).status_code == 404
    assert (await devportal.delete(f"{url}/anything", headers=bob)).status_code == 404
    assert keymanager.requests == []


async def test_bad_key_type_is_422(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    response = await _generate(devportal, app_id, "GOLD")
    assert response.status_code == 422
    assert keymanager.requests == []


async def test_a_second_pair_relays_keymanagers_409(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    error = {"code": 409, "message": "Conflict", "description": "revoke them first"}
    keymanager.fail_with = httpx.Response(409, json=error)
    response = await _generate(devportal, app_id)
    assert response.status_code == 409
    assert response.json() == error


async def test_keymanager_down_or_garbage_is_502(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    keymanager.down = True
    assert (await _generate(devportal, app_id)).status_code == 502
    keymanager.down = False
    keymanager.fail_with = httpx.Response(201, json={"clientId": "x"})  # no secret: not shown
    assert (await _generate(devportal, app_id)).status_code == 502


async def test_keymanager_refuses_a_signature_under_another_key(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    keymanager.secret_key = generate_master_key()
    response = await _generate(devportal, app_id)
    assert response.status_code == 401
    assert keymanager.clients == {}
