"""publisher, devportal and keymanager in-process on the real NATS and store, wired as in
production: every token comes from keymanager's login, publisher and devportal verify it with
keymanager's JWKS, and devportal asks keymanager for keys."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from aigw.common.service_auth import ServiceAuth
from aigw.devportal.app import create_app as create_devportal
from aigw.devportal.settings import Settings as DevportalSettings
from aigw.keymanager.app import create_app as create_keymanager
from aigw.keymanager.settings import Settings as KeymanagerSettings
from aigw.publisher.app import create_app as create_publisher
from aigw.publisher.settings import Settings as PublisherSettings
from tests.support.access.rule import DP, KM, PUB, RouteKey
from tests.support.infra import Infra
from tests.support.offline import offline_bus_settings
from tests.support.waiting import LIFESPAN_BOUNDS, eventually

ADMIN_PASSWORD = "admin-access-matrix"
PASSWORD = "pw-access-matrix"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Account:
    username: str
    auth: dict[str, str]  # the Authorization header of its login token


@dataclass
class World:
    http: dict[str, httpx.AsyncClient]  # by service name
    accounts: dict[str, Account]  # admin, publisher and paula, alice and bob (subscribers)
    published_api_id: str
    signer: ServiceAuth  # signs as devportal, for keymanager's devportal-only routes


def route_keys(service: str, app: FastAPI) -> set[RouteKey]:
    """Every (service, method, path template) the app answers, included routers too."""
    return {
        (service, method, str(context.path))
        for context in iter_route_contexts(app.routes)
        for method in getattr(context, "methods", None) or ()
        if method not in SKIPPED_METHODS
    }


def live_route_keys(secret_key: str) -> set[RouteKey]:
    """Building the apps connects to nothing: the routes are known without infrastructure."""
    keymanager = KeymanagerSettings(
        secret_key=secret_key, admin_password=ADMIN_PASSWORD, **offline_bus_settings("keymanager")
    )
    publisher = PublisherSettings(secret_key=secret_key, **offline_bus_settings("publisher"))
    devportal = DevportalSettings(secret_key=secret_key, **offline_bus_settings("devportal"))
    return (
        route_keys("publisher", create_publisher(publisher))
        | route_keys("devportal", create_devportal(devportal))
        | route_keys("keymanager", create_keymanager(keymanager))
    )


@contextlib.asynccontextmanager
async def running_world(infra: Infra, secret_key: str) -> AsyncIterator[World]:
    common: dict[str, Any] = {"mongodb_url": infra.mongodb_url, "secret_key": secret_key}
    db = f"access_{uuid.uuid4().hex[:10]}"
    async with contextlib.AsyncExitStack() as stack:
        km_settings = KeymanagerSettings(
            **common,
            **infra.bus_settings("keymanager"),
            mongodb_db=f"{db}_km",
            admin_password=ADMIN_PASSWORD,
        )
        km_app = await stack.enter_async_context(
            LifespanManager(create_keymanager(km_settings), **LIFESPAN_BOUNDS)
        )
        km = await stack.enter_async_context(_client(km_app.app, "keymanager"))

        async def jwks() -> dict[str, Any]:
            body: dict[str, Any] = (await km.get(f"{KM}/jwks")).json()
            return body

        publisher = create_publisher(
            PublisherSettings(**common, **infra.bus_settings("publisher"), mongodb_db=f"{db}_pub"),
            jwks_fetcher=jwks,
        )
        devportal = create_devportal(
            DevportalSettings(**common, **infra.bus_settings("devportal"), mongodb_db=f"{db}_dp"),
            jwks_fetcher=jwks,
            keymanager_transport=httpx.ASGITransport(app=km_app.app),
        )
        http = {"keymanager": km}
        for name, app in (("publisher", publisher), ("devportal", devportal)):
            running = await stack.enter_async_context(LifespanManager(app, **LIFESPAN_BOUNDS))
            http[name] = await stack.enter_async_context(_client(running.app, name))
        accounts = await _accounts(km)
        api_id = await _published_api(http, accounts)
        yield World(http, accounts, api_id, ServiceAuth(secret_key, "devportal"))


def _client(app: Any, name: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")


async def _login(km: httpx.AsyncClient, username: str, password: str) -> Account:
    response = await km.post(f"{KM}/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return Account(username, {"Authorization": f"Bearer {response.json()['access_token']}"})


async def _accounts(km: httpx.AsyncClient) -> dict[str, Account]:
    """Real users, created by the admin through POST /users, each logged in."""
    admin = await _login(km, "admin", ADMIN_PASSWORD)
    accounts = {"admin": admin}
    for username, role in (
        ("publisher", "publisher"),
        ("paula", "publisher"),
        ("alice", "subscriber"),
        ("bob", "subscriber"),
    ):
        body = {"username": username, "password": PASSWORD, "roles": [role]}
        created = await km.post(f"{KM}/users", json=body, headers=admin.auth)
        assert created.status_code == 201, created.text
        accounts[username] = await _login(km, username, PASSWORD)
    return accounts


def api_body() -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:10]
    return {
        "name": f"AccessMatrix-{suffix}",
        "context": f"access-{suffix}",
        "version": "1.0.0",
        "aiVendor": {"name": "MistralAI", "version": "v1"},
        "endpoints": {"production": "https://api.mistral.ai"},
    }


def vendor_body() -> dict[str, Any]:
    """A custom AI vendor of its own name."""
    return {
        "name": f"AccessMatrix-{uuid.uuid4().hex[:10]}",
        "version": "v1",
        "auth": {"type": "header", "name": "x-provider-key"},
        "apiDefinition": {"openapi": "3.0.3", "paths": {"/v1/generate": {"post": {}}}},
    }


async def _published_api(http: dict[str, httpx.AsyncClient], accounts: dict[str, Account]) -> str:
    """An API published through publisher and seen in devportal's catalogue (via the events)."""
    admin = accounts["admin"].auth
    created = await http["publisher"].post(f"{PUB}/apis", json=api_body(), headers=admin)
    assert created.status_code == 201, created.text
    api_id = str(created.json()["id"])
    # deployed first (production without a provider key): an API not deployed is not published
    api = f"{PUB}/apis/{api_id}"
    keyless = await http["publisher"].put(
        f"{api}/backend-security", json={"production": None}, headers=admin
    )
    assert keyless.status_code == 200, keyless.text
    deployed = await http["publisher"].post(f"{api}/deploy", headers=admin)
    assert deployed.status_code == 201, deployed.text
    published = await http["publisher"].post(
        f"{PUB}/apis/{api_id}/lifecycle", json={"action": "publish"}, headers=admin
    )
    assert published.status_code == 200, published.text
    await _until_listed(http["devportal"], api_id, accounts["alice"].auth)
    return api_id


async def _until_listed(devportal: httpx.AsyncClient, api_id: str, auth: dict[str, str]) -> None:
    await eventually(
        lambda: devportal.get(f"{DP}/apis/{api_id}", headers=auth),
        lambda response: response.status_code == 200,
        interval=0.05,
        what=f"API {api_id} in devportal's catalogue",
    )
