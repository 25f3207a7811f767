"""OAuth2 client credentials end to end: consumer key/secret from the portal, a token from
keymanager, the AI API called with it through the gateway, then revoked."""

from typing import Any

import httpx
import pytest

from aigw.devtools.stack import Stack
from tests.support.portal import Portal
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _token(stack: Stack, key: str, secret: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(key, secret),
    )


def test_access_token_calls_the_api_until_revoked(
    stack: Stack, portal: Portal, mistral: dict[str, Any]
) -> None:
    created = portal.dev.post(
        f"/applications/{mistral['app_id']}/oauth-keys", json={"keyType": "SANDBOX"}
    )
    assert created.status_code == 201, created.text
    consumer_key, secret = created.json()["consumerKey"], created.json()["consumerSecret"]

    assert _token(stack, consumer_key, "wrong-secret").json()["error"] == "invalid_client"
    issued = _token(stack, consumer_key, secret)
    assert issued.status_code == 200, issued.text
    access_token = issued.json()["access_token"]

    eventually_sync(lambda: portal.chat(mistral["path"], access_token).status_code, 200)
    answer = portal.chat(mistral["path"], access_token).json()
    assert "[sandbox]" in answer["choices"][0]["message"]["content"]  # key type from the client

    revoked = httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/oauth2/revoke",
        data={"token": access_token},
        auth=(consumer_key, secret),
    )
    assert revoked.status_code == 200
    eventually_sync(
        lambda: portal.chat(mistral["path"], access_token).status_code, 401, timeout=1.0
    )

    fresh = _token(stack, consumer_key, secret).json()["access_token"]
    eventually_sync(lambda: portal.chat(mistral["path"], fresh).status_code, 200)
    gone = portal.dev.delete(f"/applications/{mistral['app_id']}/oauth-keys/{consumer_key}")
    assert gone.status_code == 204
    eventually_sync(lambda: portal.chat(mistral["path"], fresh).status_code, 401, timeout=1.0)
    assert _token(stack, consumer_key, secret).status_code == 401


def test_management_token_cannot_call_an_ai_api(
    portal: Portal, mistral: dict[str, Any], admin_token: str
) -> None:
    assert portal.chat(mistral["path"], admin_token).status_code == 401
