"""An admin's change to an account reaches publisher and devportal at once (their account
standing, folded from keymanager's user events), and deleting an account revokes its API keys
and OAuth2 clients at the gateway. Four real processes over real NATS and the store."""

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from aigw.common.auth import ISSUER, MANAGEMENT_AUDIENCE
from aigw.devtools.stack import Stack
from tests.support.portal import Portal
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PASSWORD = "standing-password-1"
STALE = "The access token no longer stands: sign in again"
AT_ONCE = 1.5  # seconds: an admin's change is an event away from every service


class Accounts:
    """The admin's calls to keymanager's /users, and the users' own sign-in."""

    def __init__(self, stack: Stack, admin_token: str) -> None:
        self.stack = stack
        self.km = httpx.Client(
            base_url=f"{stack.url('keymanager')}/api/keymanager/v1",
            headers={"Authorization": f"Bearer {admin_token}"},
        )

    def create(self, *roles: str) -> str:
        username = f"standing-{uuid.uuid4().hex[:8]}"
        body = {"username": username, "password": PASSWORD, "roles": list(roles)}
        response = self.km.post("/users", json=body)
        assert response.status_code == 201, response.text
        return username

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return httpx.post(
            f"{self.stack.url('keymanager')}/api/keymanager/v1/auth/login",
            json={"username": username, "password": password},
        )

    def token(self, username: str, password: str = PASSWORD) -> str:
        response = self.login(username, password)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def patch(self, username: str, **fields: Any) -> None:
        response = self.km.patch(f"/users/{username}", json=fields)
        assert response.status_code == 200, response.text

    def delete(self, username: str) -> None:
        assert self.km.delete(f"/users/{username}").status_code == 204

    def verifies_cryptographically(self, token: str) -> bool:
        """The token's signature, audience, issuer and expiry are still fine: only its
        standing ended."""
        jwks = httpx.get(f"{self.stack.url('keymanager')}/api/keymanager/v1/jwks").json()
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
        jwt.decode(token, key, algorithms=["EdDSA"], audience=MANAGEMENT_AUDIENCE, issuer=ISSUER)
        return True


@pytest.fixture(scope="module")
def accounts(stack: Stack, admin_token: str) -> Accounts:
    return Accounts(stack, admin_token)


def _publisher(stack: Stack, token: str) -> httpx.Response:
    return httpx.get(
        f"{stack.url('publisher')}/api/publisher/v1/apis",
        headers={"Authorization": f"Bearer {token}"},
    )


def _devportal(stack: Stack, token: str) -> httpx.Response:
    return httpx.get(
        f"{stack.url('devportal')}/api/devportal/v1/applications",
        headers={"Authorization": f"Bearer {token}"},
    )


def _refused_at_once(call: Callable[[], httpx.Response]) -> httpx.Response:
    eventually_sync(lambda: call().status_code, 401, timeout=AT_ONCE)
    response = call()
    assert response.status_code == 401
    assert response.json()["description"] == STALE
    return response


def _oauth_token(stack: Stack, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )


def test_a_disabled_publisher_loses_publisher_access_at_once(
    stack: Stack, accounts: Accounts
) -> None:
    username = accounts.create("publisher")
    token = accounts.token(username)
    assert _publisher(stack, token).status_code == 200

    accounts.patch(username, disabled=True)
    _refused_at_once(lambda: _publisher(stack, token))
    assert accounts.verifies_cryptographically(token)  # refused for its standing alone
    assert accounts.login(username).status_code == 401

    accounts.patch(username, disabled=False)  # reversible: a new sign-in works again
    assert _publisher(stack, accounts.token(username)).status_code == 200
    assert _publisher(stack, token).status_code == 401  # the old token stays ended


def test_removing_the_publisher_role_ends_publisher_access_at_once(
    stack: Stack, accounts: Accounts
) -> None:
    username = accounts.create("publisher")
    token = accounts.token(username)
    assert _publisher(stack, token).status_code == 200

    accounts.patch(username, roles=["subscriber"])
    _refused_at_once(lambda: _publisher(stack, token))
    fresh = accounts.token(username)
    assert _publisher(stack, fresh).status_code == 403  # signed in again: now a subscriber
    assert _devportal(stack, fresh).status_code == 200


def test_a_password_reset_ends_old_tokens_at_publisher_and_devportal(
    stack: Stack, accounts: Accounts
) -> None:
    username = accounts.create("publisher", "subscriber")
    token = accounts.token(username)
    assert _publisher(stack, token).status_code == 200
    assert _devportal(stack, token).status_code == 200

    reset = accounts.km.post(f"/users/{username}/password", json={"password": "new-password-22"})
    assert reset.status_code == 204, reset.text
    _refused_at_once(lambda: _publisher(stack, token))
    _refused_at_once(lambda: _devportal(stack, token))
    fresh = accounts.token(username, "new-password-22")
    assert _publisher(stack, fresh).status_code == 200
    assert _devportal(stack, fresh).status_code == 200


def test_a_deleted_subscriber_loses_devportal_keys_and_oauth_clients(
    stack: Stack, accounts: Accounts, mistral: dict[str, Any]
) -> None:
    username = accounts.create("subscriber")
    token = accounts.token(username)
    portal = Portal(stack, token)
    app_id = portal.subscribed_app(mistral["api"]["id"])
    api_key = portal.key(app_id, "PRODUCTION")
    created = portal.dev.post(f"/applications/{app_id}/oauth-keys", json={"keyType": "SANDBOX"})
    assert created.status_code == 201, created.text
    client_id, secret = created.json()["consumerKey"], created.json()["consumerSecret"]
    issued = _oauth_token(stack, client_id, secret)
    assert issued.status_code == 200, issued.text
    access_token = issued.json()["access_token"]
    eventually_sync(lambda: portal.chat(mistral["path"], api_key).status_code, 200)
    eventually_sync(lambda: portal.chat(mistral["path"], access_token).status_code, 200)

    accounts.delete(username)
    _refused_at_once(lambda: _devportal(stack, token))
    assert accounts.verifies_cryptographically(token)
    eventually_sync(lambda: portal.chat(mistral["path"], api_key).status_code, 401, timeout=AT_ONCE)
    eventually_sync(
        lambda: portal.chat(mistral["path"], access_token).status_code, 401, timeout=AT_ONCE
    )
    assert _oauth_token(stack, client_id, secret).status_code == 401
    keys = accounts.km.get("/api-keys", params={"applicationId": app_id}).json()
    assert keys["count"] == 1
    assert keys["list"][0]["revoked"] is True


def test_a_disabled_subscribers_keys_keep_working(
    stack: Stack, accounts: Accounts, mistral: dict[str, Any]
) -> None:
    """Disabling is reversible and ends management access only (documented on DELETE and
    PATCH /users): the applications' keys keep calling AI APIs."""
    username = accounts.create("subscriber")
    token = accounts.token(username)
    portal = Portal(stack, token)
    app_id = portal.subscribed_app(mistral["api"]["id"])
    api_key = portal.key(app_id, "PRODUCTION")
    eventually_sync(lambda: portal.chat(mistral["path"], api_key).status_code, 200)

    accounts.patch(username, disabled=True)
    _refused_at_once(lambda: _devportal(stack, token))
    assert portal.chat(mistral["path"], api_key).status_code == 200


def test_publisher_and_devportal_are_ready_with_the_standing_caught_up(stack: Stack) -> None:
    for service in ("publisher", "devportal"):
        response = httpx.get(f"{stack.url(service)}/health/ready")
        assert response.json() == {"status": "UP"}
