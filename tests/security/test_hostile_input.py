"""Hostile request bodies and ids on every management service: each gets a clear JSON error
({"code","message","description"}) and leaves no trace in the store or on the event stream."""

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from aigw.common.messaging import STREAM_NAME
from aigw.common.usage.store import CALLS as USAGE_CALLS
from aigw.common.usage.store import COLLECTION as USAGE
from aigw.common.usage.store import META as USAGE_META
from aigw.common.usage.store import ROLLUPS as USAGE_ROLLUPS
from aigw.devportal.app import create_app as devportal_app
from aigw.devportal.catalog.repository import COLLECTION as CATALOG
from aigw.devportal.policies.repository import COLLECTION as POLICIES
from aigw.devportal.settings import Settings as DevportalSettings
from aigw.devportal.vendors.repository import COLLECTION as VENDOR_DEFINITIONS
from aigw.keymanager.app import create_app as keymanager_app
from aigw.keymanager.settings import Settings as KeymanagerSettings
from aigw.publisher.app import create_app as publisher_app
from aigw.publisher.audit.repository import EVENTS, LINKS, STATE
from aigw.publisher.settings import Settings as PublisherSettings
from tests.support.bus import connected
from tests.support.fake_keymanager import FakeKeymanager
from tests.support.infra import Infra
from tests.support.tokens import TestSigner
from tests.support.waiting import LIFESPAN_BOUNDS, eventually

pytestmark = pytest.mark.integration
AUDIT_PROJECTION = (EVENTS, LINKS, STATE)  # the publisher's audit trail, folded from the stream

MAX_BODY = 2048
# Read models a service builds from other services' events, replayed from the whole shared
# stream in the background: they change on their own, never because of a request.
EVENT_PROJECTIONS = {
    CATALOG,
    POLICIES,
    VENDOR_DEFINITIONS,
    *AUDIT_PROJECTION,
    *(USAGE_CALLS, USAGE, USAGE_ROLLUPS, USAGE_META),  # the gateways' usage, per call and minute
}
ERROR_SHAPE = {"code", "message", "description"}
KM_ADMIN_PASSWORD = "hostile-admin-pw"
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@dataclass
class Target:
    name: str
    client: httpx.AsyncClient
    app: FastAPI
    create_path: str  # a POST that creates something when the body is valid
    unknown_paths: list[tuple[str, str, dict[str, Any] | None]]  # method, path, json body


def _common(infra: Infra, secret_key: str, db: str) -> dict[str, Any]:
    identity = {"pub": "publisher", "dp": "devportal", "km": "keymanager"}[db.split("_")[1]]
    return {
        **infra.bus_settings(identity),
        "mongodb_url": infra.mongodb_url,
        "secret_key": secret_key,
        "mongodb_db": db,
        "max_body_bytes": MAX_BODY,
    }


def _publisher(infra: Infra, key: str, signer: TestSigner, unique: str) -> tuple[FastAPI, str]:
    settings = PublisherSettings(**_common(infra, key, f"hostile_pub_{unique}"), dev_mode=True)
    return publisher_app(settings, jwks_fetcher=signer.fetch_jwks), "/api/publisher/v1"


def _devportal(infra: Infra, key: str, signer: TestSigner, unique: str) -> tuple[FastAPI, str]:
    settings = DevportalSettings(**_common(infra, key, f"hostile_dp_{unique}"))
    transport = httpx.MockTransport(FakeKeymanager().handle)  # keymanager is stood in here
    app = devportal_app(settings, jwks_fetcher=signer.fetch_jwks, keymanager_transport=transport)
    return app, "/api/devportal/v1"


def _keymanager(infra: Infra, key: str, signer: TestSigner, unique: str) -> tuple[FastAPI, str]:
    common = _common(infra, key, f"hostile_km_{unique}")
    settings = KeymanagerSettings(**common, admin_password=KM_ADMIN_PASSWORD)
    return keymanager_app(settings), "/api/keymanager/v1"


_API_BODY = {
    "name": "Hostile",
    "context": "hostile",
    "version": "1.0.0",
    "aiVendor": {"name": "MistralAI", "version": "v1"},
    "endpoints": {"production": "http://127.0.0.1:9"},
}
TARGETS: dict[str, tuple[Callable[..., tuple[FastAPI, str]], str, list[Any]]] = {
    "publisher": (
        _publisher,
        "/apis",
        [
            ("GET", f"/apis/{UNKNOWN}", None),
            ("PUT", f"/apis/{UNKNOWN}", _API_BODY),
            ("PUT", f"/apis/{UNKNOWN}/backend-security", {"production": {"apiKey": "k" * 20}}),
            ("POST", f"/apis/{UNKNOWN}/deploy", None),
            ("POST", f"/apis/{UNKNOWN}/lifecycle", {"action": "publish"}),
            ("DELETE", f"/apis/{UNKNOWN}", None),
        ],
    ),
    "devportal": (
        _devportal,
        "/applications",
        [
            ("GET", f"/applications/{UNKNOWN}", None),
            ("DELETE", f"/applications/{UNKNOWN}", None),
            ("GET", f"/apis/{UNKNOWN}", None),
            ("POST", f"/applications/{UNKNOWN}/api-keys", {"keyType": "PRODUCTION"}),
            ("DELETE", f"/subscriptions/{UNKNOWN}", None),
        ],
    ),
    "keymanager": (
        _keymanager,
        "/auth/login",
        [("DELETE", f"/api-keys/{UNKNOWN}", None)],
    ),
}


@contextlib.asynccontextmanager
async def _running(name: str, infra: Infra, key: str, signer: TestSigner, unique: str):
    build, create_path, unknown = TARGETS[name]
    app, prefix = build(infra, key, signer, unique)
    async with (
        LifespanManager(app, **LIFESPAN_BOUNDS) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url=f"http://{name}{prefix}",
            headers=signer.auth("admin", ("admin",)),
        ) as client,
    ):
        if name == "keymanager":  # keymanager trusts only tokens it signed itself
            client.headers["Authorization"] = f"Bearer {await _keymanager_admin_token(client)}"
        if name == "devportal":  # a new devportal folds the whole shared stream first: until
            # then an unknown API is "not known yet" (503), not the 404 the requests expect
            await eventually(
                lambda: client.get(f"/apis/{UNKNOWN}"), lambda r: r.status_code != 503, timeout=120
            )
        yield Target(name, client, app, create_path, unknown)


async def _keymanager_admin_token(client: httpx.AsyncClient) -> str:
    body = {"username": "admin", "password": KM_ADMIN_PASSWORD}
    response = await client.post("/auth/login", json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture(params=list(TARGETS))
async def target(
    request: pytest.FixtureRequest, infra: Infra, secret_key: str, signer: TestSigner, unique: str
) -> AsyncIterator[Target]:
    async with _running(request.param, infra, secret_key, signer, unique) as running:
        yield running


async def _trace(target: Target, nats_url: str) -> tuple[str, int]:
    """Everything the service stored, and the stream's last sequence, once staged events
    are flushed: the fingerprint a rejected request must not change."""
    runtime = target.app.state.runtime
    await runtime.outbox.sweep()
    dump = ""
    for name in sorted(await runtime.db.list_collection_names()):
        if name in EVENT_PROJECTIONS:
            continue
        docs = await runtime.db[name].find().sort("_id", 1).to_list()
        dump += name + json.dumps(docs, default=str, sort_keys=True)
    async with connected() as nc:
        last = (await nc.jetstream().stream_info(STREAM_NAME)).state.last_seq
    return dump, last


def _assert_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert ERROR_SHAPE <= set(body) <= ERROR_SHAPE | {"fields"}
    assert body["code"] == status
    assert body["message"]
    assert body["description"]


def _json_headers() -> dict[str, str]:
    return {"Content-Type": "application/json"}


async def _chunks(total: int) -> AsyncIterator[bytes]:
    """A body sent without Content-Length, so only counting the bytes can stop it."""
    yield b'{"name": "'
    for _ in range(total // 512):
        yield b"x" * 512
    yield b'"}'


async def test_rejected_requests_get_clear_errors_and_leave_no_trace(target: Target, infra: Infra):
    before = await _trace(target, infra.nats_url)
    await _send_hostile_requests(target)
    assert await _trace(target, infra.nats_url) == before


async def _send_hostile_requests(target: Target) -> None:
    client, path = target.client, target.create_path
    declared = b'{"name": "' + b"x" * MAX_BODY + b'"}'
    _assert_error(await client.post(path, content=declared, headers=_json_headers()), 413)
    streamed = _chunks(MAX_BODY * 2)
    _assert_error(await client.post(path, content=streamed, headers=_json_headers()), 413)
    malformed = b'{"name": "unterminated'
    _assert_error(await client.post(path, content=malformed, headers=_json_headers()), 400)
    wrong_types = {"name": 5, "username": ["x"], "password": {}, "context": 7, "keyType": 1}
    _assert_error(await client.post(path, json=wrong_types), 422)
    for method, unknown_path, body in target.unknown_paths:
        _assert_error(await client.request(method, unknown_path, json=body), 404)
