"""A rolling restart with no failed call: two gateway processes serve one port (SO_REUSEPORT,
the kernel spreads new connections over them) under steady load (kept-alive connections, a new
connection per call, streams), and each is restarted in turn: SIGTERM, it drains (readiness
503, `Connection: close` on its answers for GATEWAY_DRAIN_SECONDS, then the port closed and
what is in flight finished) and exits 0; a new one starts and joins the port only once its
table has replayed."""

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from aigw.devtools.processes import ManagedProcess, free_port
from tests.support.gateway import (
    MOCK_CONTROL_HEADERS,
    PATH,
    Events,
    gateway_command,
    provision,
    until_served,
)
from tests.support.infra import Infra
from tests.support.load import SteadyLoad
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

log = logging.getLogger(__name__)
SERVING = "serving on port(s)"  # the gateway's log line once it listens with its table


def gateway_on(infra: Infra, secret_key: str, logs: Path, port: int, name: str) -> ManagedProcess:
    return gateway_command(
        infra,
        secret_key,
        logs / f"{name}.log",
        GATEWAY_PORT=str(port),
        GATEWAY_NAME=name,
        GATEWAY_DRAIN_SECONDS="1",
        AIGW_LOG_LEVEL="INFO",
        GATEWAY_FORWARD_HEADERS=MOCK_CONTROL_HEADERS,
    )


async def until_serving(process: ManagedProcess) -> None:
    """Until this process (not just some process on the port) serves with its table."""
    await eventually(
        lambda: process.alive() and SERVING in process.log_since_start(),
        timeout=30,
        what=f"{process.name} serving",
    )


async def restart(old: ManagedProcess, new: ManagedProcess) -> int | None:
    """SIGTERM `old`, wait for it to drain and exit, then start `new` and wait until it serves;
    `old`'s exit code."""
    old.terminate()
    assert old.proc is not None
    code = await asyncio.to_thread(old.proc.wait, 30)
    new.start()
    await until_serving(new)
    return code


async def test_restarting_gateways_one_at_a_time_fails_no_call(
    infra: Infra, secret_key: str, events: Events, mock_provider: str, tmp_path: Path
) -> None:
    port = free_port()
    running = [gateway_on(infra, secret_key, tmp_path, port, f"roll{i}") for i in range(2)]
    started = list(running)
    try:
        for process in running:
            process.start()
            await until_serving(process)
        prefix, key = await provision(events, mock_provider, "roll")
        url = f"http://127.0.0.1:{port}/{prefix}{PATH}"
        async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            for _ in range(10):  # either process (a new connection each) has the route
                assert (await until_served(client, url, key)).status_code == 200

        load = SteadyLoad(url, key)
        async with load.running() as tally:
            await eventually(lambda: tally.ok >= 50, timeout=30, what="load under way")
            for round_ in range(2):
                for index in range(len(running)):
                    new = gateway_on(infra, secret_key, tmp_path, port, f"roll{index}-{round_}")
                    started.append(new)
                    assert await restart(running[index], new) == 0  # drained, exit 0
                    running[index] = new
                    calls = tally.calls
                    await eventually(lambda c=calls: tally.calls >= c + 20, what="calls go on")

        # the README's figure (--log-cli-level=INFO): the calls made during the restarts
        log.info(
            "rolling restart: %d calls, %d failed, %d/%d streams completed",
            tally.calls,
            len(tally.failures),
            tally.streams_completed,
            tally.streams_started,
        )
        assert tally.failures == [], tally.failures[:5]
        assert tally.streams_completed == tally.streams_started > 0
        assert tally.ok > 100
    finally:
        for process in started:
            process.stop(timeout=15)
