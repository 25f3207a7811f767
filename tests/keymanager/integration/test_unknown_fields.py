"""keymanager's request bodies refuse unknown fields with a 422 naming them: a misspelt field is
never silently dropped (a misspelt `emergency` would otherwise rotate with a grace period)."""

import httpx
import pytest

from aigw.common.service_auth import ServiceAuth
from tests.support.keymanager import ADMIN_PASSWORD, API
from tests.support.refusals import assert_unknown

pytestmark = pytest.mark.integration


async def test_a_misspelt_user_field_is_refused_and_no_user_is_created(
    client: httpx.AsyncClient, auth: dict[str, str], unique: str
) -> None:
    body = {"username": f"u-{unique}", "password": "long-enough-pw", "role": ["publisher"]}
    assert_unknown(await client.post(f"{API}/users", json=body, headers=auth), "role")
    listed = (await client.get(f"{API}/users", headers=auth)).json()["list"]
    assert f"u-{unique}" not in [user["username"] for user in listed]


async def test_login_and_rotation_refuse_unknown_fields(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    login = {"username": "admin", "password": ADMIN_PASSWORD, "otp": "123"}
    assert_unknown(await client.post(f"{API}/auth/login", json=login), "otp")
    before = (await client.get(f"{API}/jwks")).json()
    rotate = f"{API}/signing-keys/rotate"
    assert_unknown(await client.post(rotate, json={"emergncy": True}, headers=auth), "emergncy")
    assert (await client.get(f"{API}/jwks")).json() == before  # no rotation happened


async def test_key_and_client_bodies_refuse_unknown_fields(
    client: httpx.AsyncClient, auth: dict[str, str], as_devportal: ServiceAuth
) -> None:
    key = {"applicationId": "app-1", "keyType": "PRODUCTION", "expiresin": 60}
    response = await client.post(f"{API}/api-keys", json=key, headers=auth, auth=as_devportal)
    assert_unknown(response, "expiresin")
    oauth = {"applicationId": "app-1", "keyType": "SANDBOX", "secret": "mine"}
    response = await client.post(
        f"{API}/oauth-clients", json=oauth, headers=auth, auth=as_devportal
    )
    assert_unknown(response, "secret")
