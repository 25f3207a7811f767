"""`python -m aigw.keymanager` (as every management service, through aigw.common.serve)
bounds what a client may hold on a socket: a request head must arrive within
AIGW_HEAD_TIMEOUT, stay under AIGW_MAX_HEAD_BYTES and AIGW_MAX_HEADERS, and a process holds
at most AIGW_MAX_CONNECTIONS connections."""

import sys
from collections.abc import Iterator

import pytest

from aigw.devtools.processes import ManagedProcess, free_port
from tests.support import wire

pytestmark = pytest.mark.integration

HEAD_TIMEOUT = 1.0
MAX_CONNECTIONS = 60
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def port(infra, secret_key, tmp_path_factory) -> Iterator[int]:
    port = free_port()
    env = {
        **infra.bus_env("keymanager"),
        "MONGODB_URL": infra.mongodb_url,
        "AIGW_SECRET_KEY": secret_key,
        "AIGW_ADMIN_PASSWORD": "wire-limits-admin",
        "KEYMANAGER_PORT": str(port),
        "KEYMANAGER_MONGODB_DB": "km_wire_limits",
        "AIGW_HEAD_TIMEOUT": str(HEAD_TIMEOUT),
        "AIGW_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    proc = ManagedProcess(
        "keymanager",
        [sys.executable, "-m", "aigw.keymanager"],
        port=port,
        env=env,
        ready_url=f"http://{HOST}:{port}/health/ready",
        log_path=tmp_path_factory.mktemp("keymanager") / "keymanager.log",
    )
    proc.start()
    try:
        proc.wait_ready(30)
        yield port
    finally:
        proc.stop()


async def test_slow_request_heads_are_cut_off(port):
    await wire.assert_slow_heads_are_cut(HOST, port, HEAD_TIMEOUT)


async def test_a_huge_unterminated_header_is_refused_without_buffering_it(port):
    answer = await wire.assert_huge_header_is_refused(HOST, port)
    if answer.status == 431:
        assert answer.json()["code"] == 431


async def test_too_many_headers_get_431_in_the_management_error_shape(port):
    assert (await wire.raw_request(HOST, port, wire.head_with(100))).status == 200
    answer = await wire.raw_request(HOST, port, wire.head_with(101))
    assert answer.status == 431
    assert answer.json() == {
        "code": 431,
        "message": "Request header fields too large",
        "description": "Too many request headers (at most 100)",
    }


async def test_connections_over_the_cap_are_refused(port):
    answer = await wire.assert_connections_are_capped(HOST, port, MAX_CONNECTIONS)
    if answer.status == 503:
        assert answer.json()["code"] == 503


async def test_keep_alive_and_pipelined_requests_are_unaffected(port):
    await wire.assert_keep_alive_and_pipelining_still_work(HOST, port, pause=HEAD_TIMEOUT / 2)
