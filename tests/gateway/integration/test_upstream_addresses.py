"""Where the gateway's provider connections may go. Outside dev mode an endpoint on this
machine (or any non-public address) is refused where the connection would be opened: the
caller gets a 502 `upstream_address_refused` and the provider's listener accepts nothing,
unless GATEWAY_UPSTREAM_ALLOWED_NETWORKS covers it. A provider's redirect is relayed to the
caller, never followed."""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from aigw.devtools.processes import free_port
from aigw.gateway.settings import Settings
from tests.support.gateway import PATH, Events, deploy_with_keys, run_gateway

pytestmark = pytest.mark.integration

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


@dataclass
class Listener:
    """A provider stand-in that answers every request with `answer` and counts connections."""

    answer: bytes = OK
    port: int = field(default_factory=free_port)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.answer)
            await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def listening(answer: bytes = OK) -> AsyncIterator[Listener]:
    listener = Listener(answer)
    server = await asyncio.start_server(listener.handle, "127.0.0.1", listener.port)
    async with server:
        yield listener


def outside_dev_mode(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"port": free_port(), "dev_mode": False, **changes})


async def test_outside_dev_mode_a_provider_on_this_machine_is_refused_without_a_connection(
    events: Events, gateway_settings: Settings, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="aigw.gateway.client.pool")
    unique = uuid.uuid4().hex[:8]
    async with (
        listening() as provider,
        run_gateway(outside_dev_mode(gateway_settings)) as gateway,
        gateway.client() as client,
    ):
        # production at 127.0.0.1, sandbox at localhost (a name resolving to 127.0.0.1)
        base = f"http://localhost:{provider.port}"
        d = await deploy_with_keys(
            events, gateway, base, unique, production_url=f"http://127.0.0.1:{provider.port}/p"
        )
        for key in (d.production_key, d.production_key, d.sandbox_key, d.sandbox_key):
            response = await client.post(
                f"/{d.prefix}{PATH}", json=CHAT, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 502, response.text
            error = response.json()["error"]
            assert error["code"] == "upstream_address_refused"
            assert error["type"] == "api_error"
            assert "not one the gateway may connect to" in error["message"]
            assert "127.0.0.1" not in error["message"]  # the address stays in the log
    assert provider.connections == 0
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "aigw.gateway.client.pool"
    ]
    assert len([w for w in warnings if w.startswith("provider host 127.0.0.1 ")]) == 1
    assert len([w for w in warnings if w.startswith("provider host localhost ")]) == 1
    assert all("127.0.0.1 (loopback)" in w for w in warnings)


async def test_outside_dev_mode_an_allow_listed_network_is_reachable(
    events: Events, gateway_settings: Settings, mock_provider: str
):
    settings = outside_dev_mode(gateway_settings, upstream_allowed_networks="127.0.0.0/8")
    async with run_gateway(settings) as gateway, gateway.client() as client:
        d = await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8])
        for key in (d.production_key, d.sandbox_key):
            response = await client.post(
                f"/{d.prefix}{PATH}", json=CHAT, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 200, response.text


async def test_a_provider_redirect_is_relayed_not_followed(events: Events, gateway):
    async with listening() as elsewhere:
        location = f"http://127.0.0.1:{elsewhere.port}/latest-meta-data/"
        redirect = (
            f"HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n".encode()
        )
        async with listening(redirect) as provider, gateway.client() as client:
            d = await deploy_with_keys(
                events, gateway, f"http://127.0.0.1:{provider.port}", uuid.uuid4().hex[:8]
            )
            response = await client.post(
                f"/{d.prefix}{PATH}",
                json=CHAT,
                headers={"Authorization": f"Bearer {d.production_key}"},
            )
    assert response.status_code == 302
    assert response.headers["location"] == location
    assert provider.connections == 1
    assert elsewhere.connections == 0
