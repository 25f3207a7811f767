"""The store (MongoDB) down, then back: management calls (keymanager's login, publisher's reads
and writes) answer 503 with Retry-After within about a second instead of a 500 after a driver
timeout, readiness says 503 at once, and all of it recovers by itself when the store is back
on the same data, with no restart. The gateway, which needs no store, serves throughout.

The store is a process of this test's own (the embedded store on a SQLite file), stopped and
started again on the same port and file. NATS is a node of the test's own too: on the
session's, the fresh publisher database would first ingest every usage batch earlier tests
recorded, and that backlog (not the outage) would make the store answer late."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path

import httpx
import pytest

from aigw.common.crypto import SecretBox
from aigw.common.idempotency import HEADER
from aigw.devtools.processes import ManagedProcess, free_port, mongo_store
from aigw.gateway.settings import Settings as GatewaySettings
from aigw.keymanager.settings import Settings as KeymanagerSettings
from tests.support.gateway import (
    CHAT,
    MOCK_CONTROL_HEADERS,
    PATH,
    Deployed,
    Events,
    RunningGateway,
    bearer,
    deploy_with_keys,
    run_gateway,
)
from tests.support.infra import Infra
from tests.support.keymanager import ADMIN_PASSWORD, km_settings, running
from tests.support.mock_provider import mock_provider_process
from tests.support.nats_nodes import NatsNode, on_node
from tests.support.publisher import API_PREFIX, Publisher, running_publisher
from tests.support.tokens import TestSigner
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

LOGIN = "/api/keymanager/v1/auth/login"
APIS = f"{API_PREFIX}/apis"
# a behaviour bound, loose on purpose (a shared CI machine): MONGODB_TIMEOUT_MS is 2 s here
PROMPTLY = 5.0


@pytest.fixture(autouse=True)
def prompt_store_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default a deployment gets (tests/conftest.py raises it for every other test)."""
    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "2000")  # 1 s by default; 2 s on a loaded CI


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ManagedProcess]:
    """The test's own store, on a SQLite file it keeps across a stop and a start."""
    process = mongo_store(free_port(), tmp_path / "store.sqlite", tmp_path / "store.log")
    process.start()
    try:
        process.wait_ready(20)
        yield process
    finally:
        process.stop()


def _url(store: ManagedProcess) -> str:
    return f"mongodb://127.0.0.1:{store.port}/?directConnection=true"


@pytest.fixture
def bus(infra: Infra, node: NatsNode) -> Infra:
    """The session's credentials on the test's own NATS node."""
    return on_node(infra, node.url)


@pytest.fixture
async def publisher(
    bus: Infra, store: ManagedProcess, secret_key: str, signer: TestSigner, unique: str
) -> AsyncIterator[Publisher]:
    async with running_publisher(
        bus, secret_key, signer, unique, dev_mode=True, mongodb_url=_url(store)
    ) as publisher:
        yield publisher


@pytest.fixture
def keymanager_settings(
    bus: Infra, store: ManagedProcess, secret_key: str, unique: str
) -> KeymanagerSettings:
    settings = km_settings(bus, secret_key, f"km_{unique}")
    return settings.model_copy(update={"mongodb_url": _url(store)})


@pytest.fixture
async def keymanager(keymanager_settings: KeymanagerSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(keymanager_settings) as client:
        yield client


@pytest.fixture
def mock_provider(tmp_path: Path) -> Iterator[str]:
    with mock_provider_process(tmp_path / "mock.log") as url:
        yield url


@pytest.fixture
async def gateway(bus: Infra, secret_key: str) -> AsyncIterator[RunningGateway]:
    settings = GatewaySettings(
        secret_key=secret_key,
        **bus.bus_settings("gateway"),
        port=free_port(),
        forward_headers=MOCK_CONTROL_HEADERS,
        dev_mode=True,  # the mock provider is on this machine
    )
    async with run_gateway(settings) as running_gateway:
        yield running_gateway


@pytest.fixture
async def served(
    bus: Infra, secret_key: str, gateway: RunningGateway, mock_provider: str
) -> Deployed:
    events = Events(bus.nats_url, SecretBox(secret_key))
    return await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8])


async def _timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


def _login(keymanager: httpx.AsyncClient) -> Awaitable[httpx.Response]:
    return keymanager.post(LOGIN, json={"username": "admin", "password": ADMIN_PASSWORD})


def _assert_unavailable(response: httpx.Response, took: float) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["code"] == 503
    assert "store" in body["description"]
    assert int(response.headers["Retry-After"]) >= 1
    assert took < PROMPTLY, f"answered after {took:.2f} s"


async def _gateway_serves(gateway: RunningGateway, served: Deployed) -> None:
    async with gateway.client() as client:
        for _ in range(5):
            call = await client.post(
                f"/{served.prefix}{PATH}", json=CHAT, headers=bearer(served.production_key)
            )
            assert call.status_code == 200, call.text


async def _status(client: httpx.AsyncClient, path: str) -> int:
    return (await client.get(path)).status_code


async def test_management_answers_503_while_the_store_is_down_and_recovers_by_itself(
    store: ManagedProcess,
    publisher: Publisher,
    keymanager: httpx.AsyncClient,
    gateway: RunningGateway,
    served: Deployed,
):
    api = await publisher.create()
    await publisher.keyless(api["id"])
    assert (await _login(keymanager)).status_code == 200
    assert await _status(publisher.client, "/health/ready") == 200

    await asyncio.to_thread(store.stop)

    login, took = await _timed(_login(keymanager))
    _assert_unavailable(login, took)
    listed, took = await _timed(publisher.client.get(APIS))
    _assert_unavailable(listed, took)
    created, took = await _timed(publisher.client.post(APIS, json=publisher.body(context="c2")))
    _assert_unavailable(created, took)
    key = str(uuid.uuid4())
    deploy_url = f"{APIS}/{api['id']}/deploy"
    deploy, took = await _timed(publisher.client.post(deploy_url, headers={HEADER: key}))
    _assert_unavailable(deploy, took)

    await eventually(lambda: _status(publisher.client, "/health/ready"), 503, timeout=5)
    await eventually(lambda: _status(keymanager, "/health/ready"), 503, timeout=5)
    ready, took = await _timed(publisher.client.get("/health/ready"))
    assert ready.status_code == 503
    assert took < 0.5, "readiness answers from its last ping, without waiting on the store"
    await _gateway_serves(gateway, served)

    await asyncio.to_thread(store.start)
    await asyncio.to_thread(store.wait_ready, 20)

    await eventually(lambda: _status(publisher.client, "/health/ready"), 200, timeout=10)
    await eventually(lambda: _status(keymanager, "/health/ready"), 200, timeout=10)
    assert (await _login(keymanager)).status_code == 200
    assert [a["id"] for a in (await publisher.client.get(APIS)).json()["list"]] == [api["id"]]
    # the deploy answered 503 was made whole or not at all: its retry deploys exactly once
    retried = await publisher.client.post(deploy_url, headers={HEADER: key})
    assert retried.status_code == 201, retried.text
    assert retried.json()["revision"] == 1
    again = await publisher.client.post(deploy_url, headers={HEADER: key})
    assert again.json() == retried.json()
    await _gateway_serves(gateway, served)
