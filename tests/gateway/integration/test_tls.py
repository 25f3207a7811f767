"""`python -m aigw.gateway` with a certificate: HTTPS on GATEWAY_HTTPS_PORT (a self-signed
certificate made here, trusted by the client) and plain HTTP on GATEWAY_PORT, one process."""

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aigw.devtools.processes import free_port
from tests.support.gateway import CHAT, gateway_subprocess, provision, until_served
from tests.support.tls import self_signed

pytestmark = pytest.mark.integration


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
    tls = {
        "GATEWAY_PORT": str(port),
        "GATEWAY_HTTPS_PORT": str(https_port),
        "GATEWAY_TLS_CERT_FILE": str(cert_file),
        "GATEWAY_TLS_KEY_FILE": str(key_file),
    }
    with gateway_subprocess(infra, secret_key, tmp_path / "gateway.log", **tls):
        yield TlsGateway(f"http://127.0.0.1:{port}", f"https://127.0.0.1:{https_port}", cert_file)


async def test_https_and_http_ports_serve_the_same_gateway(tls_gateway, events, mock_provider):
    prefix, key = await provision(events, mock_provider, "tls")
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
