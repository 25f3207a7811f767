"""A retired signing key stops verifying everywhere: keymanager refuses its tokens as soon as it
left the JWKS, publisher and devportal within their JWKS refresh interval, and an emergency
rotation retires the previous key at once (gateways too, through `previous_valid_until`).

The attacker holds the private half of a signing key (leaked while it was active) and mints
long-lived admin tokens with it: rotating that key away must lock them out."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from aigw.devportal.app import create_app as create_devportal
from aigw.devportal.settings import Settings as DevportalSettings
from aigw.keymanager.settings import Settings
from aigw.keymanager.signing.tokens import mint_token
from aigw.publisher.app import create_app as create_publisher
from aigw.publisher.settings import Settings as PublisherSettings
from tests.support.events import expect_event
from tests.support.infra import session_infra
from tests.support.keymanager import API, active_signing_key, admin_token, running
from tests.support.waiting import LIFESPAN_BOUNDS, eventually

pytestmark = pytest.mark.integration

JWKS_REFRESH_SECONDS = 0.2
DEADLINE_SECONDS = 30.0
# one protected read per service, answered 200 to an admin
PROBES = {
    "keymanager": f"{API}/users/me",
    "publisher": "/api/publisher/v1/apis",
    "devportal": "/api/devportal/v1/apis",
}


@dataclass
class Services:
    http: dict[str, httpx.AsyncClient]
    settings: Settings

    async def status(self, service: str, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return (await self.http[service].get(PROBES[service], headers=headers)).status_code

    async def rotate(self, token: str, **body: Any) -> dict[str, Any]:
        response = await self.http["keymanager"].post(
            f"{API}/signing-keys/rotate",
            headers={"Authorization": f"Bearer {token}"},
            json=body or None,
        )
        assert response.status_code == 200, response.text
        rotated: dict[str, Any] = response.json()
        return rotated


def _client(app: Any, name: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")


@contextlib.asynccontextmanager
async def running_services(settings: Settings) -> AsyncIterator[Services]:
    """keymanager, and publisher and devportal verifying with its JWKS over its API, with a
    short JWKS refresh interval."""

    def bus(identity: str) -> dict[str, Any]:
        return session_infra().bus_settings(identity)

    common: dict[str, Any] = {
        "mongodb_url": settings.mongodb_url,
        "secret_key": settings.secret_key,
        "jwks_refresh_seconds": JWKS_REFRESH_SECONDS,
    }
    async with contextlib.AsyncExitStack() as stack:
        km = await stack.enter_async_context(running(settings))

        async def jwks() -> dict[str, Any]:
            body: dict[str, Any] = (await km.get(f"{API}/jwks")).json()
            return body

        db = settings.mongodb_db
        publisher = create_publisher(
            PublisherSettings(**common, **bus("publisher"), mongodb_db=f"{db}_pub"),
            jwks_fetcher=jwks,
        )
        devportal = create_devportal(
            DevportalSettings(**common, **bus("devportal"), mongodb_db=f"{db}_dp"),
            jwks_fetcher=jwks,
        )
        http = {"keymanager": km}
        for name, app in (("publisher", publisher), ("devportal", devportal)):
            started = await stack.enter_async_context(LifespanManager(app, **LIFESPAN_BOUNDS))
            http[name] = await stack.enter_async_context(_client(started.app, name))
        yield Services(http, settings)


async def _refused_everywhere(services: Services, token: str) -> None:
    for service in ("publisher", "devportal"):

        async def refused(service: str = service) -> bool:
            return await services.status(service, token) == 401

        await eventually(
            refused,
            timeout=DEADLINE_SECONDS,
            interval=0.05,
            what=f"{service} refusing a token of the retired key",
        )


async def test_emergency_rotation_locks_out_the_previous_key_at_once(settings: Settings) -> None:
    async with running_services(settings) as services:
        leaked = await active_signing_key(services.settings)
        forged = mint_token(leaked, "admin", ["admin"], ttl_seconds=86_400)
        legit = await admin_token(services.http["keymanager"])
        for service in PROBES:  # every verifier has the key cached
            assert await services.status(service, forged) == 200, service

        before = datetime.now(UTC)
        async with expect_event("aigw.signingkey.rotated") as announced:
            rotated = await services.rotate(legit, emergency=True)
            announced.about(rotated["kid"])
        assert rotated["previousKid"] == leaked.kid

        jwks = (await services.http["keymanager"].get(f"{API}/jwks")).json()
        assert [k["kid"] for k in jwks["keys"]] == [rotated["kid"]]
        for token in (forged, legit):
            assert await services.status("keymanager", token) == 401
            await _refused_everywhere(services, token)
        fresh = await admin_token(services.http["keymanager"])
        for service in PROBES:
            assert await services.status(service, fresh) == 200, service

        event = await announced
        assert event.data["previous_kid"] == leaked.kid
        # gateways drop the key once this has passed: now, not after a grace period
        until = datetime.fromisoformat(event.data["previous_valid_until"])
        assert until <= datetime.now(UTC)
        assert until >= before - timedelta(seconds=1)


async def test_after_a_normal_rotation_the_key_is_refused_once_it_left_the_jwks(
    settings: Settings,
) -> None:
    short = settings.model_copy(
        update={
            "token_ttl_seconds": 4,  # long enough to make the rotate call with it
            "oauth_token_ttl_seconds": 1,
            "signing_key_leeway_seconds": 0,
        }
    )
    async with running_services(short) as services:
        leaked = await active_signing_key(services.settings)
        forged = mint_token(leaked, "admin", ["admin"], ttl_seconds=86_400)
        for service in PROBES:
            assert await services.status(service, forged) == 200, service

        rotated = await services.rotate(await admin_token(services.http["keymanager"]))
        assert await services.status("keymanager", forged) == 200  # still in its grace period

        async def left_the_jwks() -> bool:
            jwks = (await services.http["keymanager"].get(f"{API}/jwks")).json()
            return [k["kid"] for k in jwks["keys"]] == [rotated["kid"]]

        await eventually(
            left_the_jwks,
            timeout=DEADLINE_SECONDS,
            interval=0.05,
            what="the retired key leaving the JWKS",
        )
        assert await services.status("keymanager", forged) == 401
        await _refused_everywhere(services, forged)


async def test_an_emergency_rotation_is_for_admins_only(settings: Settings) -> None:
    async with running_services(settings) as services:
        km = services.http["keymanager"]
        before = (await km.get(f"{API}/jwks")).json()
        response = await km.post(f"{API}/signing-keys/rotate", json={"emergency": True})
        assert response.status_code == 401
        assert (await km.get(f"{API}/jwks")).json() == before
