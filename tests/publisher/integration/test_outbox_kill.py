"""publisher killed (`kill -9`) right after it acknowledged a change (issue 14): the change's
events are in its outbox, in the store, and the next publisher process on the same database
publishes them, each exactly once on the stream, and a gateway routes the deployed API.

Real processes: a NATS node of the test's own (tests/support/nats_nodes.py, to stop and start),
keymanager (the admin's token and its JWKS) and publisher (`python -m aigw.<name>`,
tests/support/service_process.py), the mock provider; the session's store; the gateway
in-process. Three kill points:

- NATS down when the change is made: the publish cannot happen, so the events are surely
  still staged when publisher dies; NATS comes back, a new publisher publishes them.
- NATS up: killed right after the deploy's 2xx, the events published or not (a race): after the
  restart each is on the stream once.
- NATS up, killed after the publish but before the outbox was pulled (the store left as such a
  kill leaves it, the published events still staged): the new publisher publishes them again
  under the same message ids and JetStream keeps one of each (Nats-Msg-Id de-duplication,
  AIGW_EVENTS' duplicate window)."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from aigw.common.events import ApiCreated, ApiDeployed, Envelope
from aigw.common.outbox import OUTBOX
from aigw.devtools.processes import free_port
from aigw.gateway.settings import Settings as GatewaySettings
from tests.support.events import stream_messages
from tests.support.gateway import MOCK_CONTROL_HEADERS, access, run_gateway, until_served
from tests.support.infra import Infra
from tests.support.keymanager import token_for
from tests.support.mock_provider import mock_provider_process
from tests.support.nats_nodes import NatsNode, jetstream_ready, publish_on
from tests.support.publisher import API_PREFIX
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

APIS = f"{API_PREFIX}/apis"
ADMIN_PASSWORD = "outbox-kill-admin"
MOCK_KEY = "mock-provider-key"  # the key the mock provider accepts
ACKNOWLEDGED = (ApiCreated.TYPE, ApiDeployed.TYPE)  # what the change's 2xx answers stand for


@pytest.fixture
def mock_provider(tmp_path: Path) -> Iterator[str]:
    with mock_provider_process(tmp_path / "mock.log") as url:
        yield url


@pytest.fixture
def keymanager(
    infra: Infra, secret_key: str, node: NatsNode, unique: str, tmp_path: Path
) -> Iterator[ServiceProcess]:
    service = ServiceProcess(
        "keymanager",
        infra,
        secret_key,
        node.url,
        f"kmkill_{unique}",
        tmp_path,
        AIGW_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def publisher(
    infra: Infra,
    secret_key: str,
    node: NatsNode,
    keymanager: ServiceProcess,
    unique: str,
    tmp_path: Path,
) -> Iterator[ServiceProcess]:
    """publisher's settings; the test starts (and kills) its processes."""
    service = ServiceProcess(
        "publisher",
        infra,
        secret_key,
        node.url,
        f"pubkill_{unique}",
        tmp_path,
        KEYMANAGER_URL=keymanager.url,
    )
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def admin(keymanager: ServiceProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(keymanager.url, 'admin', ADMIN_PASSWORD)}"}


@pytest.fixture
async def store(infra: Infra, publisher: ServiceProcess) -> AsyncIterator[Any]:
    """publisher's database, read (and, for the third kill point, written) directly."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    try:
        yield client[publisher.database]
    finally:
        await client.close()


async def _start(service: ServiceProcess) -> None:
    await asyncio.to_thread(service.start)


def _admin_client(publisher: ServiceProcess, admin: dict[str, str]) -> httpx.AsyncClient:
    """The admin's client on publisher's port (the same across its processes)."""
    return httpx.AsyncClient(base_url=publisher.url, headers=admin, timeout=15)


@contextlib.asynccontextmanager
async def _new_process_as_admin(
    publisher: ServiceProcess, admin: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """Every test's first step: a new publisher process, ready, and the admin's client on it
    (open while the test kills the process, so a kill can land right after an answer)."""
    await _start(publisher)
    async with _admin_client(publisher, admin) as client:
        yield client


async def _change(client: httpx.AsyncClient, mock: str, context: str) -> str:
    """Create an API on the mock, give it the mock's key and deploy it: every answer 2xx."""
    body = {
        "name": f"Kill {context}",
        "context": context,
        "version": "0.0.2",
        "aiVendor": {"name": "MistralAI", "version": "v1"},
        "endpoints": {"production": f"{mock}/production/{context}"},
    }
    created = await client.post(APIS, json=body)
    assert created.status_code == 201, created.text
    api_id: str = created.json()["id"]
    keys = {"production": {"apiKey": MOCK_KEY}}
    secured = await client.put(f"{APIS}/{api_id}/backend-security", json=keys)
    assert secured.status_code == 200, secured.text
    deployed = await client.post(f"{APIS}/{api_id}/deploy")
    assert deployed.status_code == 201, deployed.text
    assert deployed.json()["revision"] == 1
    return api_id


async def _staged(store: Any, api_id: str) -> list[dict[str, Any]]:
    """The events staged in the API's document (its outbox), in order."""
    doc = await store.apis.find_one({"_id": api_id}, {OUTBOX: 1})
    assert doc is not None, f"API {api_id} is not in the store"
    staged: list[dict[str, Any]] = doc.get(OUTBOX, [])
    return staged


async def _about(node: NatsNode, api_id: str) -> list[tuple[str, Envelope]]:
    """(message id, event) of every event about the API on the stream, oldest first."""
    return [(mid, e) for mid, e in await stream_messages(node.url) if e.subject == api_id]


async def _published_once_after_restart(node: NatsNode, store: Any, api_id: str) -> list[Envelope]:
    """Once the new publisher's outbox has nothing left staged for the API (all its publishes
    done), the API's events on the stream: each exactly once, under its own message id."""
    await eventually(lambda: _staged(store, api_id), [], timeout=20, what="the outbox emptied")
    messages = await _about(node, api_id)
    ids = [event.id for _, event in messages]
    assert len(ids) == len(set(ids)), f"an event is on the stream twice: {ids}"
    assert [mid for mid, _ in messages] == ids  # message id = event id: what dedup keys on
    types = [event.type for _, event in messages]
    for acknowledged in ACKNOWLEDGED:
        assert types.count(acknowledged) == 1, types
    return [event for _, event in messages]


async def _routed(
    node: NatsNode, infra: Infra, secret_key: str, mock: str, api_id: str, context: str
) -> None:
    """A gateway started now on the node routes the deployed API: a subscribed key's call
    reaches the mock through it."""
    unique = uuid.uuid4().hex[:8]
    app_id, key = f"app-{unique}", f"key-{unique}"
    await publish_on(node.url, infra, *access(api_id, app_id, key))
    settings = GatewaySettings(
        secret_key=secret_key,
        **{**infra.bus_settings("gateway"), "nats_url": node.url},
        port=free_port(),
        forward_headers=MOCK_CONTROL_HEADERS,
        dev_mode=True,  # the mock provider is on this machine
    )
    async with run_gateway(settings) as gateway, gateway.client() as client:
        await gateway.wait_route(f"{context}/0.0.2")
        answer = await until_served(client, f"/{context}/0.0.2/v1/chat/completions", key)
        assert answer.status_code == 200, answer.text


async def test_a_change_acknowledged_while_nats_is_down_is_published_by_the_next_process(
    node: NatsNode,
    infra: Infra,
    secret_key: str,
    publisher: ServiceProcess,
    admin: dict[str, str],
    store: Any,
    mock_provider: str,
    unique: str,
) -> None:
    context = f"killdown{unique}"
    async with _new_process_as_admin(publisher, admin) as client:
        assert (await client.get(APIS)).status_code == 200  # the token stands (JWKS fetched)
        await asyncio.to_thread(node.stop)  # the publish is now impossible
        api_id = await _change(client, mock_provider, context)
    publisher.kill()

    staged = await _staged(store, api_id)
    assert [e["type"] for e in staged if e["type"] in ACKNOWLEDGED] == list(ACKNOWLEDGED)
    await asyncio.to_thread(node.start)  # same port, same JetStream store
    await eventually(lambda: jetstream_ready(node.url, infra), what="JetStream back")
    assert await _about(node, api_id) == []  # nothing went out before the kill

    await _start(publisher)  # a new process on the same database
    events = await _published_once_after_restart(node, store, api_id)
    assert [e.id for e in events] == [e["id"] for e in staged]  # the staged ones, in order
    deployed = ApiDeployed.from_envelope(next(e for e in events if e.type == ApiDeployed.TYPE))
    assert deployed.revision == 1
    assert deployed.route_prefix == f"{context}/0.0.2"
    async with _admin_client(publisher, admin) as client:
        fetched = (await client.get(f"{APIS}/{api_id}")).json()
    assert fetched["deployedRevision"] == 1
    await _routed(node, infra, secret_key, mock_provider, api_id, context)


async def test_killed_right_after_the_2xx_with_nats_up_each_event_is_on_the_stream_once(
    node: NatsNode,
    publisher: ServiceProcess,
    admin: dict[str, str],
    store: Any,
    mock_provider: str,
    unique: str,
) -> None:
    async with _new_process_as_admin(publisher, admin) as client:
        api_id = await _change(client, mock_provider, f"killup{unique}")
        publisher.kill()  # the deploy's events published, being published, or not yet

    left = {e["id"] for e in await _staged(store, api_id)}
    out = {event.id for _, event in await _about(node, api_id)}
    await _start(publisher)
    events = await _published_once_after_restart(node, store, api_id)
    assert left | out <= {e.id for e in events}  # nothing staged or sent went missing


async def test_killed_between_the_publish_and_the_outbox_pull_jetstream_keeps_one(
    node: NatsNode,
    publisher: ServiceProcess,
    admin: dict[str, str],
    store: Any,
    mock_provider: str,
    unique: str,
) -> None:
    async with _new_process_as_admin(publisher, admin) as client:
        api_id = await _change(client, mock_provider, f"killpull{unique}")
        await eventually(lambda: _staged(store, api_id), [], what="the outbox relayed")
    publisher.kill()
    sent = [event for _, event in await _about(node, api_id)]
    # the store as a kill after the publish and before the pull leaves it: still staged
    restaged = [event.model_dump(mode="json") for event in sent]
    await store.apis.update_one({"_id": api_id}, {"$push": {OUTBOX: {"$each": restaged}}})

    await _start(publisher)
    events = await _published_once_after_restart(node, store, api_id)
    assert [e.id for e in events] == [e.id for e in sent]  # re-published, de-duplicated
