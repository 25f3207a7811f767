"""publisher for tests: its app run in-process (its lifespan too) against the real NATS
server and store, with a client signed in as an admin of the `TestSigner`."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from aigw.common.events import Envelope
from aigw.publisher.app import create_app
from aigw.publisher.settings import Settings
from tests.support import bus, events
from tests.support.infra import Infra
from tests.support.tokens import TestSigner
from tests.support.waiting import LIFESPAN_BOUNDS

API_PREFIX = "/api/publisher/v1"


@dataclass
class Publisher:
    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings
    name: str  # unique per test: tells this test's events apart on the shared stream

    def expect_event(
        self, type: str, subject: str | None = None, **options: Any
    ) -> contextlib.AbstractAsyncContextManager[events.ExpectedEvent]:
        """`events.expect_event` on this publisher's NATS (the module's own: conftest.py)."""
        return events.expect_event(type, subject, nats_url=self.settings.nats_url, **options)

    async def publish(self, *emitted: Envelope, msg_id: str | None = None) -> None:
        """`bus.publish` to this publisher's NATS: as each event's service signs it."""
        await bus.publish(*emitted, msg_id=msg_id, url=self.settings.nats_url)

    def body(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": self.name,
            "context": "mistralaiapi",
            "version": "0.0.2",
            "description": "Mistral through the gateway",
            "aiVendor": {"name": "MistralAI", "version": "v1"},
            "endpoints": {
                "production": "https://api.mistral.ai",
                "sandbox": "http://127.0.0.1:8090",
            },
        }
        return {**body, **overrides}

    async def create(self, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(f"{API_PREFIX}/apis", json=self.body(**overrides))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def keyless(self, api_id: str, *names: str) -> None:
        """Sets the provider key of endpoints `names` (production and sandbox by default) to
        null: a deploy then calls them without a key rather than being refused for it."""
        keys = dict.fromkeys(names or ("production", "sandbox"))
        url = f"{API_PREFIX}/apis/{api_id}/backend-security"
        response = await self.client.put(url, json=keys)
        assert response.status_code == 200, response.text

    async def deploy_keyless(
        self, context: str, production: str, headers: dict[str, str] | None = None
    ) -> str:
        """An API on `context` whose one endpoint, `production`, takes no provider key, created
        and deployed (as `headers` say, the admin by default): its id, once both are acknowledged."""
        body = self.body(context=context, endpoints={"production": production})
        created = await self.client.post(f"{API_PREFIX}/apis", json=body, headers=headers)
        assert created.status_code == 201, created.text
        api_id: str = created.json()["id"]
        url = f"{API_PREFIX}/apis/{api_id}"
        keyless = {"production": None}
        secured = await self.client.put(f"{url}/backend-security", json=keyless, headers=headers)
        assert secured.status_code == 200, secured.text
        deployed = await self.client.post(f"{url}/deploy", headers=headers)
        assert deployed.status_code == 201, deployed.text
        return api_id


@contextlib.asynccontextmanager
async def running_publisher(
    infra: Infra,
    secret_key: str,
    signer: TestSigner,
    unique: str,
    *,
    dev_mode: bool,
    mongodb_url: str | None = None,
) -> AsyncIterator[Publisher]:
    """`mongodb_url`: a store of the test's own (one it stops and restarts), not the session's."""
    settings = Settings(
        **infra.bus_settings("publisher"),
        mongodb_url=mongodb_url or infra.mongodb_url,
        secret_key=secret_key,
        mongodb_db=f"pub_{unique}",
        usage_calls_retention_days=0,  # the tests' calls are dated in the past
        dev_mode=dev_mode,
    )
    app = create_app(settings, jwks_fetcher=signer.fetch_jwks)
    async with (
        LifespanManager(app, **LIFESPAN_BOUNDS) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url="http://publisher",
            headers=signer.auth(),
        ) as client,
    ):
        yield Publisher(client, app, settings, name=f"MistralAIAPI-{unique}")
