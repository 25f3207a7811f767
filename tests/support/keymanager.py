"""keymanager for tests: its app run in-process against the real NATS server and store,
logins, and what a thief of its store would find there."""

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient
from starlette.types import ASGIApp

from aigw.keymanager.app import create_app
from aigw.keymanager.settings import Settings
from aigw.keymanager.signing.keys import SigningKey
from aigw.keymanager.signing.repository import SigningKeyRepository
from aigw.keymanager.signing.service import SigningKeyService
from aigw.keymanager.users.passwords import hash_password
from aigw.keymanager.users.repository import UserRepository
from tests.support.infra import Infra
from tests.support.waiting import LIFESPAN_BOUNDS

ADMIN_PASSWORD = "s3cret"
API = "/api/keymanager/v1"


def km_settings(infra: Infra, secret_key: str, database: str) -> Settings:
    return Settings(
        **infra.bus_settings("keymanager"),
        mongodb_url=infra.mongodb_url,
        secret_key=secret_key,
        mongodb_db=database,
        admin_password=ADMIN_PASSWORD,
    )


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[ASGIApp]:
    """keymanager's app after its start-up, for clients made with `client_from`."""
    async with LifespanManager(create_app(settings), **LIFESPAN_BOUNDS) as manager:
        yield manager.app


def client_from(app: ASGIApp, address: str) -> httpx.AsyncClient:
    """A client whose requests reach the app from `address` (the peer the service sees)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://km")


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(settings) as app, client_from(app, "127.0.0.1") as client:
        yield client


async def admin_token(client: httpx.AsyncClient) -> str:
    response = await client.post(
        f"{API}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def token_for(keymanager_url: str, username: str, password: str) -> str:
    """An access token from the login of a keymanager at `keymanager_url` (a blocking call,
    for the tests of served apps and processes)."""
    body = {"username": username, "password": password}
    response = httpx.post(f"{keymanager_url}{API}/auth/login", json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def login_as(
    client: httpx.AsyncClient, settings: Settings, username: str, roles: list[str]
) -> dict[str, str]:
    """Adds a user straight to the store and logs in: the Authorization header for them."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url)
    try:
        repo = UserRepository(mongo[settings.mongodb_db])
        assert await repo.insert_if_absent(username, hash_password("pw-" + username), roles)
    finally:
        await mongo.close()
    body = {"username": username, "password": "pw-" + username}
    token = (await client.post(f"{API}/auth/login", json=body)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def active_signing_key(settings: Settings) -> SigningKey:
    """The active signing key with its private half, as a thief of the store and the master
    key would have it."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url)
    try:
        repo = SigningKeyRepository(mongo[settings.mongodb_db])
        box = settings.secret_box()
        return (await SigningKeyService(repo, box, None, timedelta(0)).current()).active
    finally:
        await mongo.close()


async def store_dump(settings: Settings) -> str:
    """Every document of keymanager's database, as one JSON text to search for secrets."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_url)
    try:
        db = mongo[settings.mongodb_db]
        dump = ""
        for name in await db.list_collection_names():
            dump += json.dumps(await db[name].find().to_list(), default=str)
        return dump
    finally:
        await mongo.close()
