import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from aigw.common.crypto import SecretBox
from aigw.devtools.processes import free_port
from aigw.gateway.settings import Settings
from tests.support.gateway import (
    MOCK_CONTROL_HEADERS,
    Deployed,
    Events,
    RunningGateway,
    deploy_with_keys,
    run_gateway,
)
from tests.support.infra import Infra
from tests.support.mock_provider import mock_provider_process


@pytest.fixture(scope="session")
def mock_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The mock provider as its own process (keys mock-provider-key, mock-sandbox-key)."""
    with mock_provider_process(Path(tmp_path_factory.mktemp("mock")) / "mock.log") as url:
        yield url


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


@pytest.fixture
def events(infra: Infra, secret_key: str) -> Events:
    return Events(infra.nats_url, SecretBox(secret_key))


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


@pytest.fixture
async def deployed_api(events: Events, gateway: RunningGateway, mock_provider: str) -> Deployed:
    """An API deployed to production and sandbox endpoints of the mock, an application
    subscribed to it, and one PRODUCTION and one SANDBOX key."""
    return await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8])
