"""`python -m aigw.gateway` with a certificate: HTTPS on GATEWAY_HTTPS_PORT (a self-signed
certificate made here, trusted by the client) and plain HTTP on GATEWAY_PORT, one process."""

import asyncio
import ssl
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import KeyIssued, SubscriptionCreated
from aigw.devtools.processes import ManagedProcess, free_port
from tests.gateway.integration.conftest import deploy_event
from tests.support.tls import self_signed

pytestmark = pytest.mark.integration

CHAT = {"model": "m", "messages": [{"role": "user", "content": "Hi over TLS"}]}


@dataclass
class TlsGateway:
    http_url: str
    https_url: str
    cert_file: Path

    def https_client(self) -> httpx.AsyncClient:
        trusted = ssl.create_default_context(cafile=str(self.cert_file))
        return httpx.AsyncClient(base_url=self.https_url, verify=trusted, timeout=10)


@pytest.fixture
def tls_gateway(infra, secret_key, tmp_path) -> Iterator[TlsGateway]:
    cert_file, key_file = self_signed(tmp_path)
    port, https_port = free_port(), free_port()
    env = {
        **infra.bus_env("gateway"),
        "AIGW_SECRET_KEY": secret_key,
        "GATEWAY_PORT": str(port),
        "GATEWAY_HTTPS_PORT": str(https_port),
        "GATEWAY_TLS_CERT_FILE": str(cert_file),
        "GATEWAY_TLS_KEY_FILE": str(key_file),
        "AIGW_DEV_MODE": "true",  # the mock provider is on this machine
    }
    proc = ManagedProcess(
        "gateway",
        [sys.executable, "-m", "aigw.gateway"],
        port=https_port,
        env=env,
        ready_url=f"http://127.0.0.1:{port}/health/ready",
        log_path=tmp_path / "gateway.log",
    )
    proc.start()
    try:
        proc.wait_ready(30)
        yield TlsGateway(f"http://127.0.0.1:{port}", f"https://127.0.0.1:{https_port}", cert_file)
    finally:
        proc.stop()


async def provision(events, mock_provider: str) -> tuple[str, str]:
    """A deployed API, a subscribed application and its key: (route prefix, key)."""
    unique = uuid.uuid4().hex[:8]
    api_id, app_id, prefix, key = f"api-{unique}", f"app-{unique}", f"tls{unique}/1.0", unique
    await events.publish(
        deploy_event(events, api_id, prefix, mock_provider, unique),
        SubscriptionCreated(
            subscription_id=f"sub-{unique}", application_id=app_id, api_id=api_id, policy="U"
        ),
        KeyIssued(
            key_id=f"k-{unique}",
            key_hash=sha256_hex(key),
            application_id=app_id,
            key_type="PRODUCTION",
        ),
    )
    return prefix, key


async def until_served(client: httpx.AsyncClient, url: str, key: str) -> httpx.Response:
    """The gateway learns the route from events a moment after they were published."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        response = await client.post(url, json=CHAT, headers={"Authorization": f"Bearer {key}"})
        learning = response.status_code in (401, 403, 404)  # route, subscription, key
        if not learning or asyncio.get_running_loop().time() > deadline:
            return response
        await asyncio.sleep(0.05)


async def test_https_and_http_ports_serve_the_same_gateway(tls_gateway, events, mock_provider):
    prefix, key = await provision(events, mock_provider)
    url = f"/{prefix}/v1/chat/completions"
    async with tls_gateway.https_client() as client:
        response = await until_served(client, url, key)
        assert response.status_code == 200, response.text
        assert response.http_version == "HTTP/1.1"
        assert "[production]" in response.json()["choices"][0]["message"]["content"]
        stream = {**CHAT, "stream": True}
        headers = {"Authorization": f"Bearer {key}"}
        async with client.stream("POST", url, json=stream, headers=headers) as streamed:
            assert streamed.headers["content-type"].startswith("text/event-stream")
            chunks = [chunk async for chunk in streamed.aiter_text()]
        assert "data: [DONE]" in "".join(chunks)
    async with httpx.AsyncClient(base_url=tls_gateway.http_url, timeout=10) as plain:
        assert (await plain.post(url, json=CHAT, headers=headers)).status_code == 200


async def test_an_untrusted_client_cannot_talk_to_the_https_port(tls_gateway):
    async with httpx.AsyncClient(base_url=tls_gateway.https_url, timeout=10) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/health/live")  # the default CA bundle does not know our cert
    async with tls_gateway.https_client() as client:
        assert (await client.get("/health/live")).status_code == 200
