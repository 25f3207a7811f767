"""CORS for browser clients of the invocation paths (GATEWAY_CORS_ORIGINS)."""

import pytest

from aigw.devtools.processes import free_port
from aigw.gateway.settings import Settings
from tests.support.gateway import PATH, run_gateway

pytestmark = pytest.mark.integration

ALLOWED = "https://app.example.com"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def gateway_settings(infra, secret_key) -> Settings:
    return Settings(
        secret_key=secret_key,
        **infra.bus_settings("gateway"),
        port=free_port(),
        cors_origins=f"{ALLOWED}, https://other.example.com",
        dev_mode=True,  # the mock provider is on this machine
    )


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_preflight_from_an_allowed_origin_is_204_without_credentials(
    gateway, deployed_api, mock
):
    async with gateway.client() as client:
        response = await client.options(f"/{deployed_api.prefix}{PATH}", headers=preflight(ALLOWED))
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "apikey", "content-type"} <= {h.strip() for h in allowed.split(",")}
    assert int(response.headers["access-control-max-age"]) > 0
    assert (await mock.get("/_mock/requests")).json() == []


async def test_preflight_from_another_origin_gets_no_cors_headers(gateway, deployed_api):
    async with gateway.client() as client:
        response = await client.options(
            f"/{deployed_api.prefix}{PATH}", headers=preflight("https://evil.example.com")
        )
    assert response.status_code == 403
    assert not [h for h in response.headers if h.startswith("access-control-")]


async def test_responses_to_an_allowed_origin_carry_cors_headers(gateway, deployed_api):
    headers = {"Origin": ALLOWED, "Authorization": f"Bearer {deployed_api.production_key}"}
    async with gateway.client() as client:
        ok = await client.post(f"/{deployed_api.prefix}{PATH}", json=CHAT, headers=headers)
        refused = await client.post(
            f"/{deployed_api.prefix}{PATH}", json=CHAT, headers={"Origin": ALLOWED}
        )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    assert ok.headers["vary"] == "Origin"
    assert "x-ratelimit-remaining-requests" in ok.headers["access-control-expose-headers"]
    assert refused.status_code == 401  # and the browser may read why
    assert refused.headers["access-control-allow-origin"] == ALLOWED


async def test_responses_to_another_origin_carry_none(gateway, deployed_api):
    headers = {
        "Origin": "https://evil.example.com",
        "Authorization": f"Bearer {deployed_api.production_key}",
    }
    async with gateway.client() as client:
        response = await client.post(f"/{deployed_api.prefix}{PATH}", json=CHAT, headers=headers)
    assert response.status_code == 200
    assert not [h for h in response.headers if h.startswith("access-control-")]


async def test_without_configured_origins_there_is_no_cors(infra, secret_key):
    settings = Settings(secret_key=secret_key, **infra.bus_settings("gateway"), port=free_port())
    async with run_gateway(settings) as gateway, gateway.client() as client:
        response = await client.options("/any/1.0/v1/chat/completions", headers=preflight(ALLOWED))
    assert response.status_code == 404  # an ordinary request: nothing is deployed there
    assert "access-control-allow-origin" not in response.headers
