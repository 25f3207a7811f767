import asyncio

import jwt
import pytest
from pydantic import SecretStr

from aigw.common.auth import ISSUER, MANAGEMENT_AUDIENCE
from aigw.keymanager.settings import Settings
from tests.support.keymanager import ADMIN_PASSWORD, API, admin_token, running

pytestmark = pytest.mark.integration


async def test_login_ok(client) -> None:
    response = await client.post(
        f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == ISSUER
    assert claims["aud"] == MANAGEMENT_AUDIENCE
    assert claims["sub"] == "admin"
    assert claims["roles"] == ["admin", "publisher", "subscriber"]
    assert {"iat", "exp", "jti"} <= claims.keys()


@pytest.mark.parametrize(("username", "password"), [("admin", "wrong"), ("nobody", "s3cret")])
async def test_login_rejected_with_one_message(client, username: str, password: str) -> None:
    response = await client.post(
        f"{API}/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 401
    assert body["message"] == "Invalid username or password"
    assert body["description"] == "Invalid username or password"


async def test_malformed_json_is_400(client) -> None:
    response = await client.post(
        f"{API}/auth/login", content=b'{"username": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == 400


async def test_missing_fields_is_422(client) -> None:
    response = await client.post(f"{API}/auth/login", json={"username": "admin"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == 422
    assert "password" in body["description"]


async def test_jwks(client, auth) -> None:
    response = await client.get(f"{API}/jwks")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert keys[0].keys() == {"kty", "crv", "x", "kid", "alg", "use"}
    assert keys[0]["alg"] == "EdDSA"
    token = auth["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["kid"] == keys[0]["kid"]


async def test_health_metrics_openapi(client) -> None:
    assert (await client.get("/health/live")).status_code == 200
    assert (await client.get("/health/ready")).json() == {"status": "UP"}
    assert (await client.get("/metrics")).status_code == 200
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {f"{API}/auth/login", f"{API}/jwks", f"{API}/api-keys"} <= paths.keys()


async def test_signing_key_and_admin_survive_restart(settings: Settings) -> None:
    async with running(settings) as first:
        token = await admin_token(first)
        jwks_before = (await first.get(f"{API}/jwks")).json()
    async with running(settings) as second:
        assert (await second.get(f"{API}/jwks")).json() == jwks_before
        response = await second.get(f"{API}/api-keys", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert (await admin_token(second)) != token


async def test_existing_admin_is_not_overwritten(settings: Settings) -> None:
    async with running(settings):
        pass
    changed = settings.model_copy(update={"admin_password": SecretStr("new")})
    async with running(changed) as client:
        assert await admin_token(client)  # still the original password
        response = await client.post(
            f"{API}/auth/login", json={"username": "admin", "password": "new"}
        )
        assert response.status_code == 401


async def test_concurrent_starts_share_one_signing_key(settings: Settings) -> None:
    async def jwks() -> dict[str, object]:
        async with running(settings) as client:
            body: dict[str, object] = (await client.get(f"{API}/jwks")).json()
            return body

    first, second = await asyncio.gather(jwks(), jwks())
    assert first == second
