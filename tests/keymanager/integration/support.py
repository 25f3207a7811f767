"""Run keymanager's app in-process against the real NATS server and store."""

import contextlib
from collections.abc import AsyncIterator

import httpx
from asgi_lifespan import LifespanManager

from aigw.keymanager.app import create_app
from aigw.keymanager.settings import Settings
from tests.support.infra import Infra

ADMIN_PASSWORD = "s3cret"
API = "/api/keymanager/v1"


def km_settings(infra: Infra, secret_key: str, database: str) -> Settings:
    return Settings(
        nats_url=infra.nats_url,
        mongodb_url=infra.mongodb_url,
        secret_key=secret_key,
        mongodb_db=database,
        admin_password=ADMIN_PASSWORD,
    )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://km"
        ) as client,
    ):
        yield client


async def admin_token(client: httpx.AsyncClient) -> str:
    response = await client.post(
        f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
