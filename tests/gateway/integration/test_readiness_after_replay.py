"""Readiness only after replay: a gateway started on a stream of a couple of thousand events
says 503 on /health/ready until its table has replayed the stream up to where it stood at
start, and never answers 404 (or 401/403) for an API, key and subscription that are in the
stream: before the replay is done a call is a 503 `not_ready` with `Retry-After`. Killed with
SIGKILL mid-traffic and started again, it replays and serves as before."""

import asyncio
import os
import signal
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import KeyIssued
from aigw.devtools.processes import ManagedProcess, free_port
from tests.support.bus import emitted, publish_many
from tests.support.gateway import CHAT, PATH, Events, bearer, gateway_command, provision
from tests.support.infra import Infra
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

FILLER = 2_000


@dataclass
class Seen:
    """Every answer while the gateway starts: (what, status), 503s without Retry-After."""

    answers: list[tuple[str, int | str]] = field(default_factory=list)
    without_retry_after: int = 0

    def calls(self) -> set[int | str]:
        return {status for what, status in self.answers if what != "ready"}


async def probe_until_ready(base: str, apis: list[tuple[str, str]], seen: Seen) -> None:
    """Call /health/ready and each API until ready, recording what each answered."""
    async with httpx.AsyncClient(timeout=10) as client:

        async def once() -> bool:
            ready = await _status(client, "GET", f"{base}/health/ready", None, seen)
            seen.answers.append(("ready", ready))
            for prefix, key in apis:
                status = await _status(client, "POST", f"{base}/{prefix}{PATH}", key, seen)
                seen.answers.append((prefix, status))
            return ready == 200

        await eventually(once, timeout=60, interval=0.02, what="the gateway ready")


async def _status(
    client: httpx.AsyncClient, method: str, url: str, key: str | None, seen: Seen
) -> int | str:
    try:
        headers = bearer(key) if key else {}
        response = await client.request(method, url, json=CHAT if key else None, headers=headers)
    except httpx.ConnectError:
        return "refused"  # the port is not open yet
    if response.status_code == 503 and key and "retry-after" not in response.headers:
        seen.without_retry_after += 1
    return response.status_code


def gateway_on(infra: Infra, secret_key: str, log: Path, port: int) -> ManagedProcess:
    return gateway_command(infra, secret_key, log, GATEWAY_PORT=str(port), AIGW_LOG_LEVEL="INFO")


async def test_no_call_is_refused_as_unknown_while_the_table_replays(
    infra: Infra, secret_key: str, events: Events, mock_provider: str, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:8]
    first = await provision(events, mock_provider, "early")
    await publish_many(
        [
            emitted(
                KeyIssued(
                    key_id=f"fill-{unique}-{i}",
                    key_hash=sha256_hex(f"fill-{unique}-{i}"),
                    application_id=f"fill-{unique}",
                    key_type="PRODUCTION",
                )
            )
            for i in range(FILLER)
        ]
    )
    last = await provision(events, mock_provider, "late")  # the stream's last events
    apis = [first, last]
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    gateway = gateway_on(infra, secret_key, tmp_path / "gateway.log", port)
    restarted = gateway_on(infra, secret_key, tmp_path / "gateway-again.log", port)
    try:
        gateway.start()
        seen = Seen()
        await probe_until_ready(base, apis, seen)
        assert seen.calls() <= {"refused", 503, 200}, seen.answers
        assert seen.without_retry_after == 0
        await served_as_before(base, apis)

        # SIGKILL while calls are made, start again: it replays and serves as before
        calls = asyncio.create_task(served_as_before(base, apis, rounds=50, tolerate=True))
        await asyncio.sleep(0)  # let the calls start: the kill lands among them
        assert gateway.proc is not None
        os.killpg(gateway.proc.pid, signal.SIGKILL)
        await calls
        await asyncio.to_thread(gateway.proc.wait, 10)
        restarted.start()
        again = Seen()
        await probe_until_ready(base, apis, again)
        assert again.calls() <= {"refused", 503, 200}, again.answers
        await served_as_before(base, apis)
    finally:
        gateway.stop()
        restarted.stop()


async def served_as_before(
    base: str, apis: list[tuple[str, str]], rounds: int = 1, tolerate: bool = False
) -> None:
    """Each API answers 200 (`tolerate`: a transport error is allowed, the gateway is dying)."""
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(rounds):
            for prefix, key in apis:
                try:
                    response = await client.post(
                        f"{base}/{prefix}{PATH}", json=CHAT, headers=bearer(key)
                    )
                except httpx.TransportError:
                    assert tolerate
                    return
                assert response.status_code == 200, response.text
