"""publisher and devportal fetch keymanager's JWKS through one HTTP client for their life: a
client per fetch built a TLS context each time that only the cycle collector freed (a
publisher's native memory grew about 0.8 MiB a refresh in a soak)."""

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aigw.common.auth import JwksCache, TokenVerifier
from aigw.common.standing import HttpJwks
from tests.support.tokens import TestSigner

JWKS_PATH = "/api/keymanager/v1/jwks"


class _Keymanager(ThreadingHTTPServer):
    """Serves a JWKS on loopback and counts the TCP connections its clients opened."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.connections = 0
        self.requests = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a reused client sends every fetch on one
    server: _Keymanager

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        self.server.requests += 1
        body = json.dumps(self.server.jwks).encode() if self.path == JWKS_PATH else b"{}"
        self.send_response(200 if self.path == JWKS_PATH else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _keymanager(jwks: dict[str, Any]) -> Iterator[_Keymanager]:
    server = _Keymanager(jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def keymanager(signer: TestSigner) -> AsyncIterator[_Keymanager]:
    with _keymanager(await signer.fetch_jwks()) as server:
        yield server


async def test_every_refresh_goes_over_the_one_client(
    keymanager: _Keymanager, signer: TestSigner
) -> None:
    fetch = HttpJwks(keymanager.url)
    verifier = TokenVerifier(JwksCache(fetch, min_refresh_seconds=0, refresh_seconds=1e-9))
    try:
        for _ in range(10):  # every verification refreshes: the refresh period is over
            principal = await verifier.verify(signer.token("alice", ("publisher",)))
            assert principal.subject == "alice"
    finally:
        await fetch.aclose()
    assert keymanager.requests == 10
    assert keymanager.connections == 1


async def test_a_closed_fetcher_opens_a_new_client_when_used_again(
    keymanager: _Keymanager,
) -> None:
    fetch = HttpJwks(keymanager.url)
    await fetch()
    await fetch.aclose()
    await fetch.aclose()  # closing twice (a lifespan's exit after a failed start) is harmless
    assert (await fetch())["keys"]
    await fetch.aclose()
    assert keymanager.connections == 2
