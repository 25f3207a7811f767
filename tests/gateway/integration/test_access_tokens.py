"""OAuth2 access tokens at the gateway: verified locally with keys, clients and revocations
learnt from events, then the same subscription checks as API keys."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from aigw.common.auth import MANAGEMENT_AUDIENCE
from aigw.common.events import OAuthClientCreated, OAuthClientRevoked, TokenRevoked
from tests.support.access_tokens import AccessTokenSigner, tampered
from tests.support.gateway import PATH, bearer, deploy_event
from tests.support.keymanager import API as KM_API
from tests.support.keymanager import active_signing_key, km_settings
from tests.support.keymanager import admin_token as km_admin_token
from tests.support.keymanager import running as running_keymanager

pytestmark = pytest.mark.integration

CHAT = {"model": "mistral-small", "messages": [{"role": "user", "content": "Hi"}]}


@dataclass
class OAuthSetup:
    signer: AccessTokenSigner
    prefix: str
    app_id: str
    production_client: str
    sandbox_client: str

    def token(self, key_type: str = "PRODUCTION", **claims: object) -> str:
        client = self.production_client if key_type == "PRODUCTION" else self.sandbox_client
        return self.signer.sign(self.signer.claims(client, self.app_id, key_type, **claims))


@pytest.fixture
async def oauth(gateway, deployed_api, events) -> OAuthSetup:
    """A signing key and one client per key type for the deployed API's application."""
    d = deployed_api
    signer = AccessTokenSigner()
    setup = OAuthSetup(signer, d.prefix, d.app_id, f"cp-{d.unique}", f"cs-{d.unique}")
    await events.publish(
        signer.rotated(),
        OAuthClientCreated(
            client_id=setup.production_client, application_id=d.app_id, key_type="PRODUCTION"
        ),
        OAuthClientCreated(
            client_id=setup.sandbox_client, application_id=d.app_id, key_type="SANDBOX"
        ),
    )
    table = gateway.app.state.table
    await gateway.wait_until(lambda: setup.sandbox_client in table.oauth_clients)
    return setup


async def call(gateway, prefix: str, token: str):
    async with gateway.client() as client:
        return await client.post(f"/{prefix}{PATH}", json=CHAT, headers=bearer(token))


async def assert_refused(gateway, prefix: str, token: str, code: str = "invalid_token") -> None:
    response = await call(gateway, prefix, token)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == code


async def test_token_key_type_chooses_the_endpoint(gateway, oauth, mock):
    production = await call(gateway, oauth.prefix, oauth.token("PRODUCTION"))
    sandbox = await call(gateway, oauth.prefix, oauth.token("SANDBOX"))
    assert production.status_code == 200, production.text
    assert "[production]" in production.json()["choices"][0]["message"]["content"]
    assert sandbox.status_code == 200, sandbox.text
    assert "[sandbox]" in sandbox.json()["choices"][0]["message"]["content"]
    seen = (await mock.get("/_mock/requests")).json()
    assert all(oauth.signer.kid not in str(r["headers"]) for r in seen)  # token not forwarded


async def test_token_for_an_unsubscribed_api_is_403(gateway, oauth, events, mock_provider):
    other = f"other{oauth.app_id[-8:]}/1.0"
    await events.publish(deploy_event(events, f"api-o-{oauth.app_id}", other, mock_provider, "o"))
    await gateway.wait_route(other)
    response = await call(gateway, other, oauth.token())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_subscribed"


async def test_expired_token_is_401(gateway, oauth):
    past = int(time.time()) - 60
    await assert_refused(gateway, oauth.prefix, oauth.token(exp=past), "expired_token")


async def test_tampered_payload_is_401(gateway, oauth):
    forged = tampered(oauth.token("SANDBOX"), client_id=oauth.production_client)
    await assert_refused(gateway, oauth.prefix, forged)


async def test_alg_none_is_401(gateway, oauth):
    claims = oauth.signer.claims(oauth.production_client, oauth.app_id, "PRODUCTION")
    await assert_refused(gateway, oauth.prefix, oauth.signer.unsigned(claims))


@pytest.mark.parametrize("form", ["pem", "raw"])
async def test_hmac_keyed_with_the_public_key_is_401(gateway, oauth, form):
    signer = oauth.signer
    secret = signer.public_pem() if form == "pem" else signer.public_raw()
    claims = signer.claims(oauth.production_client, oauth.app_id, "PRODUCTION")
    await assert_refused(gateway, oauth.prefix, signer.hmac_signed(claims, secret))


async def test_unknown_signing_key_is_401(gateway, oauth):
    stranger = AccessTokenSigner()  # never announced by an event
    claims = stranger.claims(oauth.production_client, oauth.app_id, "PRODUCTION")
    await assert_refused(gateway, oauth.prefix, stranger.sign(claims))


async def test_management_audience_is_401(gateway, oauth):
    await assert_refused(gateway, oauth.prefix, oauth.token(aud=MANAGEMENT_AUDIENCE))


async def test_wrong_issuer_and_missing_typ_are_401(gateway, oauth):
    await assert_refused(gateway, oauth.prefix, oauth.token(iss="someone-else"))
    claims = oauth.signer.claims(oauth.production_client, oauth.app_id, "PRODUCTION")
    await assert_refused(gateway, oauth.prefix, oauth.signer.sign(claims, typ="JWT"))


async def test_revoked_client_is_401(gateway, oauth, events):
    token = oauth.token()
    assert (await call(gateway, oauth.prefix, token)).status_code == 200
    await events.publish(OAuthClientRevoked(client_id=oauth.production_client))
    await gateway.wait_until(
        lambda: oauth.production_client not in gateway.app.state.table.oauth_clients
    )
    await assert_refused(gateway, oauth.prefix, token)
    assert (await call(gateway, oauth.prefix, oauth.token("SANDBOX"))).status_code == 200


async def test_revoked_jti_is_401(gateway, oauth, events):
    jti = "revoked-" + oauth.app_id
    token, other = oauth.token(jti=jti), oauth.token()
    assert (await call(gateway, oauth.prefix, token)).status_code == 200
    expiry = datetime.now(UTC) + timedelta(minutes=10)
    await events.publish(
        TokenRevoked(jti=jti, client_id=oauth.production_client, expires_at=expiry)
    )
    await gateway.wait_until(lambda: jti in gateway.app.state.table.revoked_jtis)
    await assert_refused(gateway, oauth.prefix, token, "revoked_token")
    assert (await call(gateway, oauth.prefix, other)).status_code == 200


async def test_rotated_key_lives_until_previous_valid_until(gateway, oauth, events):
    old_token = oauth.token()
    successor = AccessTokenSigner()
    await events.publish(successor.rotated(previous=oauth.signer, grace=3600))
    await gateway.wait_until(lambda: successor.kid in gateway.app.state.table.signing_keys)
    assert (await call(gateway, oauth.prefix, old_token)).status_code == 200
    oauth.signer = successor
    assert (await call(gateway, oauth.prefix, oauth.token())).status_code == 200
    third = AccessTokenSigner()
    await events.publish(third.rotated(previous=successor, grace=-1))  # retired at once
    await gateway.wait_until(lambda: third.kid in gateway.app.state.table.signing_keys)
    await assert_refused(gateway, oauth.prefix, oauth.token())


async def test_an_emergency_rotation_by_keymanager_retires_its_key_at_once(
    gateway, oauth, infra, secret_key, unique
):
    """A leaked keymanager signing key: after the emergency rotation the gateway refuses the
    tokens it signs, without waiting for a grace period."""
    km_settings_ = km_settings(infra, secret_key, f"km_{unique}")
    async with running_keymanager(km_settings_) as km:
        leaked = await active_signing_key(km_settings_)
        table = gateway.app.state.table
        await gateway.wait_until(lambda: leaked.kid in table.signing_keys)
        claims = oauth.signer.claims(oauth.production_client, oauth.app_id, "PRODUCTION")
        forged = jwt.encode(
            claims,
            leaked.private_key,
            algorithm="EdDSA",
            headers={"kid": leaked.kid, "typ": "at+jwt"},
        )
        assert (await call(gateway, oauth.prefix, forged)).status_code == 200
        admin = {"Authorization": f"Bearer {await km_admin_token(km)}"}
        rotated = await km.post(
            f"{KM_API}/signing-keys/rotate", json={"emergency": True}, headers=admin
        )
        assert rotated.status_code == 200, rotated.text
        await gateway.wait_until(lambda: rotated.json()["kid"] in table.signing_keys)
        await assert_refused(gateway, oauth.prefix, forged)
