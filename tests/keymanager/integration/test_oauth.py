"""OAuth2 client credentials: clients (consumer key and secret), the token endpoint and token
revocation, on the real store and event stream."""

import base64
import json
import time
from datetime import datetime
from typing import Any

import httpx
import jwt
import pytest

from aigw.common.auth import GATEWAY_AUDIENCE, ISSUER
from aigw.common.crypto import sha256_hex
from aigw.keymanager.settings import Settings
from tests.support.events import expect_event, stream_events, wait_for_event
from tests.support.infra import Infra
from tests.support.keymanager import (
    API,
    admin_token,
    login_as,
    running,
    store_dump,
)

Json = dict[str, Any]

pytestmark = pytest.mark.integration

TOKEN = f"{API}/oauth2/token"
REVOKE = f"{API}/oauth2/revoke"
GRANT = {"grant_type": "client_credentials"}


async def _create(client, auth, as_devportal, app_id: str = "app-1", key_type: str = "PRODUCTION"):
    body = {"applicationId": app_id, "keyType": key_type}
    return await client.post(f"{API}/oauth-clients", json=body, headers=auth, auth=as_devportal)


@pytest.fixture
async def creds(client, auth, as_devportal) -> Json:
    response = await _create(client, auth, as_devportal)
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def _token(client, creds: Json) -> str:
    response = await client.post(
        TOKEN, data=GRANT, headers=basic(creds["clientId"], creds["clientSecret"])
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def _verify(client, token: str) -> Json:
    """Decode with the published JWKS, as the gateway does."""
    kid = jwt.get_unverified_header(token)["kid"]
    jwks = (await client.get(f"{API}/jwks")).json()
    [jwk] = [k for k in jwks["keys"] if k["kid"] == kid]
    claims: Json = jwt.decode(
        token, jwt.PyJWK(jwk), algorithms=["EdDSA"], audience=GATEWAY_AUDIENCE, issuer=ISSUER
    )
    return claims


def _oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert response.headers["cache-control"] == "no-store"


# --- clients ---------------------------------------------------------------------------


async def test_create_client_shows_the_secret_once(
    client, auth, creds: Json, infra: Infra, settings: Settings
) -> None:
    assert creds.keys() == {"clientId", "clientSecret", "applicationId", "keyType", "createdTime"}
    assert (creds["applicationId"], creds["keyType"]) == ("app-1", "PRODUCTION")
    event = await wait_for_event(infra.nats_url, "aigw.oauthclient.created", creds["clientId"])
    assert event.data == {
        "client_id": creds["clientId"], "application_id": "app-1", "key_type": "PRODUCTION"
    }  # fmt: skip
    assert event.actor == "admin"
    listed = await client.get(
        f"{API}/oauth-clients", params={"applicationId": "app-1"}, headers=auth
    )
    [summary] = listed.json()["list"]
    public = {k: v for k, v in creds.items() if k != "clientSecret"}
    assert summary == {**public, "revoked": False}
    dump = await store_dump(settings)
    assert sha256_hex(creds["clientSecret"]) in dump  # sanity: we did read the clients
    assert creds["clientSecret"] not in dump + listed.text + event.model_dump_json()


async def test_one_live_client_per_application_and_key_type(
    client, auth, as_devportal, creds: Json
) -> None:
    second = await _create(client, auth, as_devportal)
    assert second.status_code == 409
    assert "clientSecret" not in second.text
    sandbox = await _create(client, auth, as_devportal, key_type="SANDBOX")
    assert sandbox.status_code == 201

    assert (
        await client.delete(f"{API}/oauth-clients/{creds['clientId']}", headers=auth)
    ).status_code == 204
    again = await _create(client, auth, as_devportal)
    assert again.status_code == 201
    assert again.json()["clientId"] != creds["clientId"]


async def test_clients_are_created_only_through_devportal(client, auth) -> None:
    body = {"applicationId": "app-1", "keyType": "PRODUCTION"}
    response = await client.post(f"{API}/oauth-clients", json=body, headers=auth)
    assert response.status_code == 403
    assert (await client.get(f"{API}/oauth-clients", headers=auth)).json()["count"] == 0


async def test_clients_are_private_to_their_owner(
    client, auth, creds: Json, settings: Settings
) -> None:
    bob = await login_as(client, settings, "bob", ["subscriber"])
    assert (await client.get(f"{API}/oauth-clients", headers=bob)).json()["count"] == 0
    denied = await client.delete(f"{API}/oauth-clients/{creds['clientId']}", headers=bob)
    assert denied.status_code == 404
    assert await _token(client, creds)  # still live


async def test_revoking_a_client_emits_and_stops_new_tokens(
    client, auth, creds: Json, infra: Infra
) -> None:
    url = f"{API}/oauth-clients/{creds['clientId']}"
    async with expect_event("aigw.oauthclient.revoked", creds["clientId"]) as revoked_client:
        assert (await client.delete(url, headers=auth)).status_code == 204
        assert (await client.delete(url, headers=auth)).status_code == 204  # idempotent

    event = await revoked_client
    assert event.data == {"client_id": creds["clientId"]}
    revoked = await stream_events(infra.nats_url, "aigw.oauthclient.revoked")
    assert [e.subject for e in revoked].count(creds["clientId"]) == 1
    [summary] = (await client.get(f"{API}/oauth-clients", headers=auth)).json()["list"]
    assert summary["revoked"] is True
    response = await client.post(
        TOKEN, data=GRANT, headers=basic(creds["clientId"], creds["clientSecret"])
    )
    _oauth_error(response, 401, "invalid_client")


# --- the token endpoint -----------------------------------------------------------------


async def test_token_by_basic_auth_is_an_rfc9068_jwt(client, creds: Json) -> None:
    before = int(time.time())
    response = await client.post(
        TOKEN, data=GRANT, headers=basic(creds["clientId"], creds["clientSecret"])
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body.keys() == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    header = jwt.get_unverified_header(body["access_token"])
    assert (header["alg"], header["typ"]) == ("EdDSA", "at+jwt")
    assert header["kid"]
    claims = await _verify(client, body["access_token"])
    assert claims.keys() == {
        "iss", "sub", "aud", "exp", "iat", "jti", "client_id", "keyType", "applicationId"
    }  # fmt: skip
    assert (claims["iss"], claims["aud"]) == (ISSUER, GATEWAY_AUDIENCE)
    assert claims["sub"] == claims["client_id"] == creds["clientId"]
    assert (claims["keyType"], claims["applicationId"]) == ("PRODUCTION", "app-1")
    assert claims["iat"] >= before
    assert claims["exp"] == claims["iat"] + 3600
    assert len(claims["jti"]) >= 16


async def test_token_with_credentials_in_the_form_body(client, creds: Json) -> None:
    form = {**GRANT, "client_id": creds["clientId"], "client_secret": creds["clientSecret"]}
    response = await client.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    claims = await _verify(client, response.json()["access_token"])
    assert claims["client_id"] == creds["clientId"]
    assert claims["jti"] != (await _verify(client, await _token(client, creds)))["jti"]


async def test_token_lifetime_follows_the_setting(settings: Settings, as_devportal) -> None:
    short = settings.model_copy(update={"oauth_token_ttl_seconds": 120})
    async with running(short) as client:
        auth = {"Authorization": f"Bearer {await admin_token(client)}"}
        creds = (await _create(client, auth, as_devportal)).json()
        response = await client.post(
            TOKEN, data=GRANT, headers=basic(creds["clientId"], creds["clientSecret"])
        )
        assert response.json()["expires_in"] == 120
        claims = await _verify(client, response.json()["access_token"])
        assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize(
    "secret", ["wrong-secret", "", "x" * 43], ids=["wrong", "empty", "same-length"]
)
async def test_a_bad_secret_is_invalid_client(client, creds: Json, secret: str) -> None:
    by_basic = await client.post(TOKEN, data=GRANT, headers=basic(creds["clientId"], secret))
    _oauth_error(by_basic, 401, "invalid_client")
    assert by_basic.headers["www-authenticate"].startswith("Basic")
    form = {**GRANT, "client_id": creds["clientId"], "client_secret": secret}
    _oauth_error(await client.post(TOKEN, data=form), 401, "invalid_client")


async def test_unknown_client_or_no_credentials_is_invalid_client(client, creds: Json) -> None:
    unknown = basic("no-such-client", creds["clientSecret"])
    _oauth_error(await client.post(TOKEN, data=GRANT, headers=unknown), 401, "invalid_client")
    _oauth_error(await client.post(TOKEN, data=GRANT), 401, "invalid_client")
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Bearer x"):
        response = await client.post(TOKEN, data=GRANT, headers={"Authorization": header})
        _oauth_error(response, 401, "invalid_client")


async def test_unsupported_or_missing_grant(client, creds: Json) -> None:
    auth = basic(creds["clientId"], creds["clientSecret"])
    for grant in ("password", "authorization_code", "refresh_token"):
        response = await client.post(TOKEN, data={"grant_type": grant}, headers=auth)
        _oauth_error(response, 400, "unsupported_grant_type")
    _oauth_error(await client.post(TOKEN, data={}, headers=auth), 400, "invalid_request")


async def test_malformed_token_requests_are_invalid_request(client, creds: Json) -> None:
    auth = basic(creds["clientId"], creds["clientSecret"])
    as_json = await client.post(TOKEN, json=GRANT, headers=auth)
    _oauth_error(as_json, 400, "invalid_request")
    twice = "grant_type=client_credentials&grant_type=client_credentials"
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    repeated = await client.post(TOKEN, content=twice, headers={**auth, **form_type})
    _oauth_error(repeated, 400, "invalid_request")
    both = {**GRANT, "client_id": creds["clientId"], "client_secret": creds["clientSecret"]}
    _oauth_error(await client.post(TOKEN, data=both, headers=auth), 400, "invalid_request")


async def test_access_tokens_are_not_management_tokens(client, creds: Json) -> None:
    token = await _token(client, creds)
    response = await client.get(
        f"{API}/oauth-clients", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


# --- revocation (RFC 7009) --------------------------------------------------------------


async def test_revoking_a_token_stages_its_jti(
    client, creds: Json, infra: Infra, settings: Settings
) -> None:
    token = await _token(client, creds)
    claims = await _verify(client, token)
    auth = basic(creds["clientId"], creds["clientSecret"])

    async with expect_event("aigw.token.revoked", claims["jti"]) as revoked_token:
        response = await client.post(REVOKE, data={"token": token}, headers=auth)

    assert response.status_code == 200, response.text
    event = await revoked_token
    assert event.data["jti"] == claims["jti"]
    assert event.data["client_id"] == creds["clientId"]
    assert datetime.fromisoformat(event.data["expires_at"]).timestamp() == claims["exp"]
    assert token not in event.model_dump_json()
    again = await client.post(
        REVOKE, data={"token": token, "token_type_hint": "access_token"}, headers=auth
    )
    assert again.status_code == 200
    revoked = await stream_events(infra.nats_url, "aigw.token.revoked")
    assert [e.subject for e in revoked].count(claims["jti"]) == 1
    dump = await store_dump(settings)
    assert claims["jti"] in dump
    assert token not in dump
    assert creds["clientSecret"] not in dump


async def test_revoke_with_credentials_in_the_form_body(client, creds: Json, infra: Infra) -> None:
    token = await _token(client, creds)
    jti = (await _verify(client, token))["jti"]
    form = {"token": token, "client_id": creds["clientId"], "client_secret": creds["clientSecret"]}
    async with expect_event("aigw.token.revoked", jti):
        assert (await client.post(REVOKE, data=form)).status_code == 200


async def test_a_token_of_another_client_is_refused(
    client, auth, as_devportal, creds: Json, infra: Infra
) -> None:
    other = (await _create(client, auth, as_devportal, app_id="app-2")).json()
    token = await _token(client, creds)
    jti = (await _verify(client, token))["jti"]

    response = await client.post(
        REVOKE, data={"token": token}, headers=basic(other["clientId"], other["clientSecret"])
    )

    _oauth_error(response, 400, "invalid_request")
    assert jti not in [e.subject for e in await stream_events(infra.nats_url, "aigw.token.revoked")]


async def test_revoke_needs_client_auth_and_a_token(
    client, auth, creds: Json, infra: Infra
) -> None:
    token = await _token(client, creds)
    bad = basic(creds["clientId"], "wrong")
    _oauth_error(
        await client.post(REVOKE, data={"token": token}, headers=bad), 401, "invalid_client"
    )
    good = basic(creds["clientId"], creds["clientSecret"])
    _oauth_error(await client.post(REVOKE, data={}, headers=good), 400, "invalid_request")
    before = len(await stream_events(infra.nats_url, "aigw.token.revoked"))
    # not one of our access tokens (garbage, a management token): 200, nothing revoked
    management = auth["Authorization"].removeprefix("Bearer ")
    for junk in ("not-a-jwt", management):
        assert (await client.post(REVOKE, data={"token": junk}, headers=good)).status_code == 200
    assert len(await stream_events(infra.nats_url, "aigw.token.revoked")) == before


async def test_nothing_secret_in_store_or_stream(
    client, creds: Json, infra: Infra, settings: Settings
) -> None:
    token = await _token(client, creds)
    auth = basic(creds["clientId"], creds["clientSecret"])
    async with expect_event("aigw.token.revoked") as revoked:
        assert (await client.post(REVOKE, data={"token": token}, headers=auth)).status_code == 200
        revoked.about((await _verify(client, token))["jti"])
    stream = json.dumps([e.model_dump(mode="json") for e in await stream_events(infra.nats_url)])
    dump = await store_dump(settings)
    for secret in (creds["clientSecret"], token, auth["Authorization"].split()[1]):
        assert secret not in stream
        assert secret not in dump
