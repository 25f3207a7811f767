import asyncio
import contextlib
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from aigw.common.crypto import SecretBox, provider_key_context, sha256_hex
from aigw.common.events import (
    ApiDeployed,
    DeployedEndpoint,
    EventPayload,
    KeyIssued,
    SubscriptionCreated,
)
from aigw.common.model_routing import ApiRouting
from aigw.common.vendors import VendorSpec, builtin_spec
from aigw.devtools.processes import ManagedProcess, free_port
from aigw.gateway.app import Gateway, create_app
from aigw.gateway.settings import Settings
from tests.support.bus import emitted, publish
from tests.support.infra import Infra


def builtin(name: str, version: str) -> VendorSpec:
    spec = builtin_spec(name, version)
    assert spec is not None
    return spec


OPENAI = builtin("OpenAI", "v1")
# The mock provider's per-request controls: the operator lets them through (GATEWAY_FORWARD_HEADERS)
MOCK_CONTROL_HEADERS = (
    "x-mock-latency-ms,x-mock-status,x-mock-chunk-delay-ms,x-mock-break-after-chunks,x-mock-usage"
)


@pytest.fixture(scope="session")
def mock_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The mock provider as its own process (keys mock-provider-key, mock-sandbox-key)."""
    port = free_port()
    log = Path(tmp_path_factory.mktemp("mock")) / "mock.log"
    argv = [sys.executable, "-m", "aigw.devtools.mock_provider", "--port", str(port)]
    proc = ManagedProcess("mock-provider", argv, port=port, log_path=log)
    proc.start()
    try:
        proc.wait_ready(20)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


@pytest.fixture(autouse=True)
async def mock(mock_provider: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the mock's control endpoints; every test starts with a healthy mock."""
    healthy = {
        "latencyMs": 0,
        "failStatus": None,
        "chunkDelayMs": 0,
        "breakAfterChunks": 0,
        "gzip": False,
        "segments": {},
    }
    async with httpx.AsyncClient(base_url=mock_provider, timeout=10) as client:
        await client.post("/_mock/config", json=healthy)
        await client.delete("/_mock/requests")
        yield client
        await client.post("/_mock/config", json=healthy)


@dataclass
class Publisher:
    nats_url: str
    box: SecretBox
    published: list[str] = field(default_factory=list)

    async def publish(self, *payloads: EventPayload) -> None:
        """Each payload as the service that owns its subject emits it (identity, signature)."""
        for payload in payloads:
            env = emitted(payload)
            await publish(env)
            self.published.append(env.id)

    def encrypt(self, key: str, api_id: str, endpoint: str, url: str) -> str:
        """The key sealed as the publisher seals it for the endpoint at `url`."""
        return self.box.encrypt(key, provider_key_context(api_id, endpoint, url))


@pytest.fixture
def events(infra: Infra, secret_key: str) -> Publisher:
    return Publisher(infra.nats_url, SecretBox(secret_key))


@dataclass
class RunningGateway:
    app: Gateway
    url: str
    settings: Settings

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10, **kwargs)  # type: ignore[arg-type]

    async def wait_route(self, prefix: str, revision: int = 1, timeout: float = 5.0) -> float:
        """Seconds until `prefix` routes at `revision` or later."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while True:
            route = self.app.state.table.routes.get(prefix)
            if route is not None and route.revision >= revision:
                return loop.time() - start
            if loop.time() - start > timeout:
                raise AssertionError(f"{prefix} not routed within {timeout}s")
            await asyncio.sleep(0.01)

    async def wait_until(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def run_gateway(settings: Settings) -> AsyncIterator[RunningGateway]:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=settings.port,
        loop="none",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        await app.follower.wait_caught_up(10)
        yield RunningGateway(app, f"http://127.0.0.1:{settings.port}", settings)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.fixture
def gateway_settings(infra: Infra, secret_key: str) -> Settings:
    return Settings(
        secret_key=secret_key,
        **infra.bus_settings("gateway"),
        port=free_port(),
        upstream_timeout=1.0,
        upstream_connect_timeout=1.0,
        forward_headers=MOCK_CONTROL_HEADERS,
        dev_mode=True,  # the mock provider is on this machine (outside dev mode it is refused)
    )


@pytest.fixture
async def gateway(gateway_settings: Settings) -> AsyncIterator[RunningGateway]:
    async with run_gateway(gateway_settings) as running:
        yield running


@dataclass
class Deployed:
    api_id: str
    prefix: str
    app_id: str
    production_key: str
    sandbox_key: str
    unique: str


@pytest.fixture
async def deployed_api(events: Publisher, gateway: RunningGateway, mock_provider: str) -> Deployed:
    """An API deployed to production and sandbox endpoints of the mock, an application
    subscribed to it, and one PRODUCTION and one SANDBOX key."""
    return await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8])


async def deploy_with_keys(
    events: Publisher,
    gateway: RunningGateway,
    mock_provider: str,
    unique: str,
    **deploy_options: Any,
) -> Deployed:
    """Deploy an API, subscribe an application, issue its PRODUCTION and SANDBOX keys, and
    wait until the gateway knows all of it."""
    api_id, app_id = f"api-{unique}", f"app-{unique}"
    prefix = f"chat{unique}/1.0"
    keys = {"PRODUCTION": f"prod-{unique}", "SANDBOX": f"sand-{unique}"}
    await events.publish(
        deploy_event(events, api_id, prefix, mock_provider, unique, **deploy_options),
        SubscriptionCreated(
            subscription_id=f"sub-{unique}",
            application_id=app_id,
            api_id=api_id,
            policy="Unlimited",
        ),
        *(
            KeyIssued(
                key_id=f"k{key_type[0].lower()}-{unique}",
                key_hash=sha256_hex(key),
                application_id=app_id,
                key_type=key_type,  # type: ignore[arg-type]
            )
            for key_type, key in keys.items()
        ),
    )
    await gateway.wait_route(prefix)
    await gateway.wait_until(
        lambda: all(sha256_hex(k) in gateway.app.state.table.keys for k in keys.values())
    )
    return Deployed(api_id, prefix, app_id, keys["PRODUCTION"], keys["SANDBOX"], unique)


def deploy_event(
    events: Publisher,
    api_id: str,
    prefix: str,
    mock_url: str,
    unique: str,
    *,
    revision: int = 1,
    vendor: VendorSpec = OPENAI,
    production_url: str | None = None,
    sandbox: bool = True,
    endpoints: dict[str, str] | None = None,
    routing: ApiRouting | None = None,
    production_key: str | None = "mock-provider-key",
) -> ApiDeployed:
    """A deploy of the mock: production and (unless `sandbox=False`) sandbox endpoints, plus
    additional `endpoints` (name → URL, all with the mock's production key) and `routing`.
    `production_key`: the production endpoint's provider key (None: called without one)."""
    production = production_url or f"{mock_url}/production/{unique}"
    sandbox_url = f"{mock_url}/sandbox/{unique}"
    return ApiDeployed(
        api_id=api_id,
        revision=revision,
        name=f"Chat {unique}",
        version="1.0",
        route_prefix=prefix,
        vendor=vendor,
        production=DeployedEndpoint(
            url=production,
            api_key_ciphertext=None
            if production_key is None
            else events.encrypt(production_key, api_id, "production", production),
        ),
        sandbox=DeployedEndpoint(
            url=sandbox_url,
            api_key_ciphertext=events.encrypt("mock-sandbox-key", api_id, "sandbox", sandbox_url),
        )
        if sandbox
        else None,
        endpoints={
            name: DeployedEndpoint(
                url=url, api_key_ciphertext=events.encrypt("mock-provider-key", api_id, name, url)
            )
            for name, url in (endpoints or {}).items()
        },
        routing=routing or ApiRouting(),
    )
