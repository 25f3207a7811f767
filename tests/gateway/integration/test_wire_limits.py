"""`python -m aigw.gateway` bounds what a client may hold on a socket: a request head must
arrive within GATEWAY_HEAD_TIMEOUT, stay under GATEWAY_MAX_HEAD_BYTES and
GATEWAY_MAX_HEADERS, and a process holds at most GATEWAY_MAX_CONNECTIONS connections, while
keep-alive and responses slower than the head timeout keep working."""

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest

from aigw.devtools.processes import ManagedProcess
from tests.support import wire
from tests.support.gateway import (
    CHAT,
    MOCK_CONTROL_HEADERS,
    gateway_subprocess,
    provision,
    until_served,
)

pytestmark = pytest.mark.integration

HEAD_TIMEOUT = 1.0
MAX_CONNECTIONS = 60
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def gateway_process(infra, secret_key, tmp_path_factory) -> Iterator[ManagedProcess]:
    limits = {
        "GATEWAY_HEAD_TIMEOUT": str(HEAD_TIMEOUT),
        "GATEWAY_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "GATEWAY_FORWARD_HEADERS": MOCK_CONTROL_HEADERS,
    }
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    with gateway_subprocess(infra, secret_key, log, **limits) as process:
        yield process


async def test_slow_request_heads_are_cut_off(gateway_process):
    await wire.assert_slow_heads_are_cut(HOST, gateway_process.port, HEAD_TIMEOUT)


async def test_a_huge_unterminated_header_is_refused_without_buffering_it(gateway_process):
    answer = await wire.assert_huge_header_is_refused(HOST, gateway_process.port)
    if answer.status == 431:
        assert answer.json()["error"]["code"] == "request_header_fields_too_large"


async def test_too_many_headers_get_431_in_the_openai_shape(gateway_process):
    host, port = HOST, gateway_process.port
    assert (await wire.raw_request(host, port, wire.head_with(100))).status == 200
    answer = await wire.raw_request(host, port, wire.head_with(101))
    assert answer.status == 431
    assert answer.json() == {
        "error": {
            "message": "Too many request headers (at most 100)",
            "type": "invalid_request_error",
            "code": "request_header_fields_too_large",
        }
    }


async def test_connections_over_the_cap_are_refused(gateway_process):
    answer = await wire.assert_connections_are_capped(HOST, gateway_process.port, MAX_CONNECTIONS)
    if answer.status == 503:
        assert answer.json()["error"]["code"] == "too_many_connections"


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, key: str
) -> tuple[int, bytes]:
    body = json.dumps(CHAT).encode()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
    content = await reader.readexactly(int(headers["content-length"]))
    return int(lines[0].split(" ")[1]), content


async def test_keep_alive_and_responses_slower_than_the_head_timeout_still_work(
    gateway_process, events, mock_provider, mock
):
    """The head timer runs only while a head is awaited: not while the provider answers,
    and it starts afresh for the next request on the same connection."""
    prefix, key = await provision(events, mock_provider)
    path = f"/{prefix}/v1/chat/completions"
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{gateway_process.port}", timeout=10
    ) as client:
        assert (await until_served(client, path, key)).status_code == 200
    await mock.post("/_mock/config", json={"latencyMs": int(HEAD_TIMEOUT * 1000 * 1.5)})
    reader, writer = await asyncio.open_connection(HOST, gateway_process.port)
    try:
        for _ in range(2):  # the same connection, each answer slower than the head timeout
            status, content = await _exchange(reader, writer, path, key)
            assert status == 200, content
            # idle on purpose (a sleep is the point): the next head's timer starts afresh
            await asyncio.sleep(HEAD_TIMEOUT / 2)
    finally:
        writer.close()
