import json
import uuid

import httpx
import pytest

from aigw.common.crypto import generate_master_key
from tests.support.devportal import publish_api
from tests.support.fake_keymanager import FakeKeymanager, assert_signed_by_devportal
from tests.support.infra import Infra
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def keymanager(secret_key: str) -> FakeKeymanager:
    """The stand-in verifies devportal's service signature, as keymanager does."""
    return FakeKeymanager(secret_key=secret_key)


@pytest.fixture
async def app_id(devportal: httpx.AsyncClient) -> str:
    response = await devportal.post("/applications", json={"name": "keyed-app"})
    return str(response.json()["id"])


async def test_generate_key_forwards_the_callers_token_and_shows_the_key_once(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str, secret_key: str
) -> None:
    response = await devportal.post(
        f"/applications/{app_id}/api-keys",
        json={"keyType": "SANDBOX"},
        headers={"X-Correlation-ID": "corr-1"},
    )

    assert response.status_code == 201, response.text
    key = response.json()
    assert set(key) == {"id", "apiKey", "keyType", "expiresAt"}
    assert key["keyType"] == "SANDBOX"
    assert key["apiKey"].startswith("aigw_")
    sent = keymanager.last()
    assert (sent.method, sent.url.path) == ("POST", "/api/keymanager/v1/api-keys")
    assert sent.headers["authorization"] == devportal.headers["authorization"]
    assert sent.headers["x-correlation-id"] == "corr-1"
    assert_signed_by_devportal(sent, secret_key)
    body = json.loads(sent.content)
    assert body == {"applicationId": app_id, "keyType": "SANDBOX", "apiId": None, "expiresIn": None}


async def test_list_and_revoke_keys_through_keymanager(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str, secret_key: str
) -> None:
    key = (
        await devportal.post(f"/applications/{app_id}/api-keys", json={"keyType": "PRODUCTION"})
    ).json()

    listing = (await devportal.get(f"/applications/{app_id}/api-keys")).json()
    assert listing["count"] == 1
    assert listing["list"][0]["id"] == key["id"]
    assert "apiKey" not in listing["list"][0]
    assert keymanager.last().url.params["applicationId"] == app_id
    assert_signed_by_devportal(keymanager.last(), secret_key)  # the query is signed too

    response = await devportal.delete(f"/applications/{app_id}/api-keys/{key['id']}")
    assert response.status_code == 204
    assert keymanager.last().method == "DELETE"
    assert_signed_by_devportal(keymanager.last(), secret_key)
    assert (await devportal.get(f"/applications/{app_id}/api-keys")).json()["count"] == 0


async def test_revoking_a_key_of_another_application_is_404(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    other = (await devportal.post("/applications", json={"name": "other"})).json()["id"]
    key = (
        await devportal.post(f"/applications/{other}/api-keys", json={"keyType": "SANDBOX"})
    ).json()

    response = await devportal.delete(f"/applications/{app_id}/api-keys/{key['id']}")
    assert response.status_code == 404
    assert key["id"] in keymanager.keys


async def test_someone_elses_application_is_404_without_calling_keymanager(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, bob: dict[str, str], app_id: str
) -> None:
    url = f"/applications/{app_id}/api-keys"
    response = await devportal.post(url, json={"keyType": "PRODUCTION"}, headers=bob)
    assert response.status_code == 404
    assert (await devportal.get(url, headers=bob)).status_code == 404
    assert keymanager.requests == []


async def test_bad_key_type_is_422_and_no_token_is_401(
    devportal: httpx.AsyncClient, app_id: str
) -> None:
    url = f"/applications/{app_id}/api-keys"
    assert (await devportal.post(url, json={"keyType": "GOLD"})).status_code == 422
    no_token = {"Authorization": ""}
    assert (
        await devportal.post(url, json={"keyType": "SANDBOX"}, headers=no_token)
    ).status_code == 401


async def test_keymanager_down_is_502(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    keymanager.down = True
    response = await devportal.post(f"/applications/{app_id}/api-keys", json={"keyType": "SANDBOX"})
    assert response.status_code == 502
    assert "Keymanager is unreachable" in response.json()["description"]


async def test_keymanager_5xx_or_garbage_is_502(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    url = f"/applications/{app_id}/api-keys"
    keymanager.fail_with = httpx.Response(503, text="overloaded")
    response = await devportal.post(url, json={"keyType": "SANDBOX"})
    assert (response.status_code, response.json()["code"]) == (502, 502)

    keymanager.fail_with = httpx.Response(201, json={"unexpected": True})
    assert (await devportal.post(url, json={"keyType": "SANDBOX"})).status_code == 502


async def test_keymanager_4xx_is_passed_through(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    error = {"code": 403, "message": "Forbidden", "description": "not allowed to issue keys"}
    keymanager.fail_with = httpx.Response(403, json=error)
    response = await devportal.post(f"/applications/{app_id}/api-keys", json={"keyType": "SANDBOX"})
    assert response.status_code == 403
    assert response.json() == error


async def test_test_key_is_issued_for_a_published_api(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, infra: Infra, settings, secret_key
) -> None:
    api_id = await publish_api(devportal, infra.nats_url)

    response = await devportal.post(f"/apis/{api_id}/test-key")

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"apiKey", "expiresIn"}
    assert body["expiresIn"] == settings.test_key_ttl_seconds
    sent = keymanager.last()
    assert sent.headers["authorization"] == devportal.headers["authorization"]
    assert_signed_by_devportal(sent, secret_key)
    assert json.loads(sent.content) == {
        "applicationId": "testkey:alice",
        "keyType": "PRODUCTION",
        "apiId": api_id,
        "expiresIn": settings.test_key_ttl_seconds,
    }


async def test_test_key_for_an_unpublished_api_is_404(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager
) -> None:
    # 503 "not known yet" while the new devportal still folds the stream, then 404
    response = await eventually(
        lambda: devportal.post(f"/apis/{uuid.uuid4()}/test-key"), lambda r: r.status_code != 503
    )
    assert response.status_code == 404
    assert keymanager.requests == []


async def test_keymanager_refuses_a_signature_under_another_key(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    """The stand-in really checks: a keymanager with another secret refuses devportal."""
    keymanager.secret_key = generate_master_key()
    response = await devportal.post(f"/applications/{app_id}/api-keys", json={"keyType": "SANDBOX"})
    assert response.status_code == 401
    assert "service signature does not match" in response.json()["description"]
    assert keymanager.keys == {}


# --- expiry and regeneration --------------------------------------------------------------


async def test_generate_key_with_an_expiry(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str, secret_key: str
) -> None:
    body = {"keyType": "PRODUCTION", "expiresIn": 86400}
    response = await devportal.post(f"/applications/{app_id}/api-keys", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["expiresAt"] is not None
    assert_signed_by_devportal(keymanager.last(), secret_key)
    assert json.loads(keymanager.last().content)["expiresIn"] == 86400


@pytest.mark.parametrize("expires_in", [0, -1, 365 * 24 * 3600 + 1, "soon", 1.5])
async def test_an_out_of_range_expiry_is_422(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str, expires_in: object
) -> None:
    body = {"keyType": "PRODUCTION", "expiresIn": expires_in}
    response = await devportal.post(f"/applications/{app_id}/api-keys", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == 422
    assert keymanager.requests == []


async def test_regenerate_shows_the_new_key_once(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str, secret_key: str
) -> None:
    old = (
        await devportal.post(f"/applications/{app_id}/api-keys", json={"keyType": "SANDBOX"})
    ).json()

    response = await devportal.post(f"/applications/{app_id}/api-keys/{old['id']}/regenerate")

    assert response.status_code == 201, response.text
    new = response.json()
    assert set(new) == {"id", "apiKey", "keyType", "expiresAt"}
    assert new["id"] == old["id"]
    assert new["apiKey"] != old["apiKey"]
    assert new["keyType"] == "SANDBOX"
    sent = keymanager.last()
    assert (sent.method, sent.url.path) == (
        "POST",
        f"/api/keymanager/v1/api-keys/{old['id']}/regenerate",
    )
    assert sent.headers["authorization"] == devportal.headers["authorization"]
    assert_signed_by_devportal(sent, secret_key)


async def test_regenerating_a_key_of_another_application_is_404(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, bob: dict[str, str], app_id: str
) -> None:
    other = (await devportal.post("/applications", json={"name": "other"})).json()["id"]
    key = (
        await devportal.post(f"/applications/{other}/api-keys", json={"keyType": "SANDBOX"})
    ).json()
    sent_before = len(keymanager.requests)

    response = await devportal.post(f"/applications/{app_id}/api-keys/{key['id']}/regenerate")
    assert response.status_code == 404
    by_bob = await devportal.post(
        f"/applications/{other}/api-keys/{key['id']}/regenerate", headers=bob
    )
    assert by_bob.status_code == 404
    assert not any(r.url.path.endswith("/regenerate") for r in keymanager.requests[sent_before:])


async def test_regenerating_a_revoked_key_relays_keymanagers_409(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, app_id: str
) -> None:
    key = (
        await devportal.post(f"/applications/{app_id}/api-keys", json={"keyType": "SANDBOX"})
    ).json()
    error = {"code": 409, "message": "Conflict", "description": "API key is revoked"}
    keymanager.fail_with = httpx.Response(409, json=error)
    response = await devportal.post(f"/applications/{app_id}/api-keys/{key['id']}/regenerate")
    assert response.status_code == 409
    assert response.json() == error


async def test_a_test_key_limit_is_relayed_with_retry_after(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, infra: Infra
) -> None:
    api_id = await publish_api(devportal, infra.nats_url)
    error = {
        "code": 429,
        "message": "Too many live test keys",
        "description": f"You have 3 live test keys for API {api_id!r}, the most allowed; ...",
    }
    keymanager.fail_with = httpx.Response(429, json=error, headers={"Retry-After": "1800"})

    response = await devportal.post(f"/apis/{api_id}/test-key")

    assert response.status_code == 429
    assert response.json() == error
    assert response.headers["retry-after"] == "1800"
