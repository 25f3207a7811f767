"""Developer sign-up through devportal, against the real keymanager (in process, over ASGI):
subscriber accounts only, no token needed, switchable off."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from aigw.common.crypto import generate_master_key
from aigw.devportal.app import API_PREFIX, create_app
from aigw.devportal.settings import Settings
from aigw.keymanager.app import create_app as create_keymanager
from tests.support.events import wait_for_event
from tests.support.infra import Infra
from tests.support.keymanager import API as KM_API
from tests.support.keymanager import km_settings
from tests.support.tokens import TestSigner
from tests.support.waiting import LIFESPAN_BOUNDS

pytestmark = pytest.mark.integration

PASSWORD = "a-long-enough-password"


@contextlib.asynccontextmanager
async def _devportal(
    settings: Settings,
    keymanager: httpx.AsyncBaseTransport,
    signer: TestSigner,
    address: str = "127.0.0.1",
) -> AsyncIterator[httpx.AsyncClient]:
    """devportal reached from `address` (the peer it sees)."""
    app = create_app(settings, jwks_fetcher=signer.fetch_jwks, keymanager_transport=keymanager)
    async with (
        LifespanManager(app, **LIFESPAN_BOUNDS) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, client=(address, 40000)),
            base_url=f"http://dp{API_PREFIX}",
        ) as client,
    ):
        yield client


@pytest.fixture
async def keymanager_transport(
    infra: Infra, secret_key: str, unique: str
) -> AsyncIterator[httpx.AsyncBaseTransport]:
    """The real keymanager app, running in process: devportal and the test both call it."""
    app = create_keymanager(km_settings(infra, secret_key, f"km_{unique}"))
    async with LifespanManager(app, **LIFESPAN_BOUNDS) as manager:
        yield httpx.ASGITransport(app=manager.app)


@pytest.fixture
async def keymanager(
    keymanager_transport: httpx.AsyncBaseTransport,
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=keymanager_transport, base_url="http://km") as client:
        yield client


@pytest.fixture
async def portal(
    settings: Settings, keymanager_transport: httpx.AsyncBaseTransport, signer: TestSigner
) -> AsyncIterator[httpx.AsyncClient]:
    async with _devportal(settings, keymanager_transport, signer) as client:
        yield client


async def test_signup_creates_a_subscriber_who_can_log_in(
    portal: httpx.AsyncClient, keymanager: httpx.AsyncClient, unique: str, infra: Infra
) -> None:
    name = f"dev.{unique}@example.org"
    response = await portal.post("/signup", json={"username": name, "password": PASSWORD})
    assert response.status_code == 201, response.text
    assert response.json() == {"username": name, "roles": ["subscriber"]}
    login = await keymanager.post(
        f"{KM_API}/auth/login", json={"username": name, "password": PASSWORD}
    )
    assert login.status_code == 200
    event = await wait_for_event(infra.nats_url, "aigw.user.created", name)
    assert event.data == {"username": name, "roles": ["subscriber"]}


async def test_signup_cannot_ask_for_more_roles(portal: httpx.AsyncClient, unique: str) -> None:
    body = {"username": f"greedy-{unique}", "password": PASSWORD, "roles": ["admin"]}
    response = await portal.post("/signup", json=body)
    assert response.status_code == 422  # refused, not silently dropped
    assert "roles: unknown field" in response.json()["description"]
    del body["roles"]
    response = await portal.post("/signup", json=body)
    assert response.status_code == 201
    assert response.json()["roles"] == ["subscriber"]


async def test_keymanager_rejections_pass_through(portal: httpx.AsyncClient, unique: str) -> None:
    body = {"username": f"taken-{unique}", "password": PASSWORD}
    assert (await portal.post("/signup", json=body)).status_code == 201
    again = await portal.post("/signup", json=body)
    assert again.status_code == 409
    assert again.json()["code"] == 409
    short = await portal.post("/signup", json={"username": f"x-{unique}", "password": "short"})
    assert short.status_code == 422
    assert "password" in short.json()["description"]
    assert (await portal.post("/signup", json={"username": "no-password"})).status_code == 422


async def test_signup_can_be_switched_off(
    settings: Settings,
    keymanager_transport: httpx.AsyncBaseTransport,
    keymanager: httpx.AsyncClient,
    signer: TestSigner,
    unique: str,
) -> None:
    off = settings.model_copy(update={"signup_enabled": False})
    async with _devportal(off, keymanager_transport, signer) as portal:
        body = {"username": f"late-{unique}", "password": PASSWORD}
        response = await portal.post("/signup", json=body)
    assert response.status_code == 403
    assert response.json()["message"] == "Sign-up is disabled"
    login = await keymanager.post(f"{KM_API}/auth/login", json=body)
    assert login.status_code == 401  # no account was made


async def test_a_signature_keymanager_refuses_is_a_502(
    settings: Settings,
    keymanager_transport: httpx.AsyncBaseTransport,
    signer: TestSigner,
    unique: str,
) -> None:
    """devportal configured with another secret: keymanager refuses, the caller is not blamed."""
    other = settings.model_copy(update={"secret_key": SecretStr(generate_master_key())})
    async with _devportal(other, keymanager_transport, signer) as portal:
        response = await portal.post(
            "/signup", json={"username": f"m-{unique}", "password": PASSWORD}
        )
    assert response.status_code == 502


async def test_keymanager_unreachable_is_a_502(settings: Settings, signer: TestSigner) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with _devportal(settings, httpx.MockTransport(refuse), signer) as portal:
        response = await portal.post("/signup", json={"username": "someone", "password": PASSWORD})
    assert response.status_code == 502
    assert PASSWORD not in response.text


async def test_signups_are_limited_per_client_address(
    settings: Settings,
    keymanager_transport: httpx.AsyncBaseTransport,
    signer: TestSigner,
    unique: str,
) -> None:
    """A sign-up burst from one address: DEVPORTAL_SIGNUP_PER_MINUTE accounts, then 429 with
    Retry-After (X-Forwarded-For from an untrusted peer changes nothing); others still sign up."""
    limited = settings.model_copy(update={"signup_per_minute": 2})

    async def signup(portal: httpx.AsyncClient, n: int) -> httpx.Response:
        body = {"username": f"flood{n}-{unique}", "password": PASSWORD}
        forged = {"X-Forwarded-For": f"192.0.2.{n}"}
        return await portal.post("/signup", json=body, headers=forged)

    async with _devportal(limited, keymanager_transport, signer, "203.0.113.5") as flooder:
        responses = await asyncio.gather(*(signup(flooder, n) for n in range(8)))
    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [201] * 2 + [429] * 6, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["code"] == 429
    assert refused.json()["message"] == "Too many sign-ups"
    async with _devportal(limited, keymanager_transport, signer, "198.51.100.5") as other:
        assert (await signup(other, 99)).status_code == 201


async def test_signup_is_devportals_own_call_not_the_callers(
    settings: Settings, signer: TestSigner
) -> None:
    """A token sent along with a sign-up stays in devportal: keymanager gets devportal's
    signature and the correlation id, never the caller's Authorization header."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"username": "someone", "roles": ["subscriber"]})

    async with _devportal(settings, httpx.MockTransport(answer), signer) as portal:
        body = {"username": "someone", "password": PASSWORD}
        headers = {"Authorization": "Bearer someone-elses-token", "X-Correlation-ID": "c-1"}
        response = await portal.post("/signup", json=body, headers=headers)
    assert response.status_code == 201, response.text
    [sent] = seen
    assert "authorization" not in sent.headers
    assert sent.headers["x-aigw-service"] == "devportal"
    assert sent.headers["x-correlation-id"] == "c-1"
