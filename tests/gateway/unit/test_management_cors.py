"""CORS on the management services' FastAPI apps (AIGW_CORS_ORIGINS via create_service_app)."""

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from aigw.common.service_app import create_service_app
from aigw.common.settings import ServiceSettings
from tests.support.offline import offline_bus_settings

ALLOWED = "https://portal.example.com"


@contextlib.asynccontextmanager
async def no_lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


async def always_ready(app: FastAPI) -> bool:
    return True


def client(origins: list[str]) -> httpx.AsyncClient:
    app = create_service_app(
        title="t",
        description="d",
        lifespan=no_lifespan,
        routers=[],
        ready=always_ready,
        max_body_bytes=1024,
        cors_origins=origins,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }


async def test_allowed_origin_gets_cors_headers():
    async with client([ALLOWED]) as c:
        options = await c.options("/health/live", headers=preflight(ALLOWED))
        get = await c.get("/health/live", headers={"Origin": ALLOWED})
    assert options.status_code == 200
    assert options.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in options.headers["access-control-allow-headers"].lower()
    assert get.headers["access-control-allow-origin"] == ALLOWED


async def test_other_origins_and_unconfigured_apps_get_none():
    async with client([ALLOWED]) as c:
        options = await c.options("/health/live", headers=preflight("https://evil.example"))
        get = await c.get("/health/live", headers={"Origin": "https://evil.example"})
    assert options.status_code == 400
    assert "access-control-allow-origin" not in options.headers
    assert "access-control-allow-origin" not in get.headers
    async with client([]) as c:
        get = await c.get("/health/live", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in get.headers


def test_setting_is_a_comma_separated_list(secret_key):
    settings = ServiceSettings(
        secret_key=secret_key,
        cors_origins=f" {ALLOWED} , https://b.example,",
        **offline_bus_settings("gateway"),
    )
    assert settings.cors_origin_list == [ALLOWED, "https://b.example"]
