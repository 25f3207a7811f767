"""GATEWAY_WORKERS=2 under steady load: a worker killed with SIGKILL is restarted by the
supervisor (logged, counted in aigw_gateway_worker_restarts_total) and serves again, while the
other worker keeps serving. The only calls that may fail are those in flight on the dead
worker's own connections: at most one per client loop (`SteadyLoad.concurrency`). SIGTERM to
the supervisor drains both workers and it exits 0."""

import asyncio
import os
import re
import signal
from pathlib import Path

import httpx
import pytest

from aigw.devtools.processes import ManagedProcess
from tests.support.gateway import (
    MOCK_CONTROL_HEADERS,
    PATH,
    Events,
    gateway_subprocess,
    metric,
    provision,
    until_served,
)
from tests.support.infra import Infra
from tests.support.load import SteadyLoad, children_of
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

FRESH = httpx.Limits(max_keepalive_connections=0)  # a new connection: either worker


def workers_of(process: ManagedProcess) -> set[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    assert process.proc is not None
    workers = set()
    for pid in children_of(process.proc.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                argv = cmdline.read()
        except OSError:
            continue
        if b"spawn_main" in argv:
            workers.add(pid)
    return workers


async def answering_pids(url: str, scrapes: int = 30) -> set[int]:
    """The workers that answered `scrapes` fresh /metrics requests (aigw_gateway_worker)."""
    pids: set[int] = set()
    async with httpx.AsyncClient(limits=FRESH) as client:
        for _ in range(scrapes):
            text = (await client.get(f"{url}/metrics")).text
            pids.update(int(pid) for pid in re.findall(r'aigw_gateway_worker\{pid="(\d+)"', text))
    return pids


async def test_a_killed_worker_is_restarted_and_serves_while_the_other_serves_on(
    infra: Infra, secret_key: str, events: Events, mock_provider: str, tmp_path: Path
) -> None:
    env = {
        "GATEWAY_WORKERS": "2",
        "AIGW_LOG_LEVEL": "INFO",
        "GATEWAY_FORWARD_HEADERS": MOCK_CONTROL_HEADERS,
    }
    with gateway_subprocess(infra, secret_key, tmp_path / "workers.log", **env) as process:
        base = f"http://127.0.0.1:{process.port}"
        before = await eventually(lambda: workers_of(process), lambda w: len(w) == 2)
        prefix, key = await provision(events, mock_provider, "workers")
        url = f"{base}/{prefix}{PATH}"
        async with httpx.AsyncClient(limits=FRESH) as client:
            for _ in range(10):
                assert (await until_served(client, url, key)).status_code == 200

        load = SteadyLoad(url, key)
        async with load.running() as tally:
            await eventually(lambda: tally.ok >= 50, timeout=30, what="load under way")
            victim = min(before)
            os.kill(victim, signal.SIGKILL)
            after = await eventually(
                lambda: workers_of(process),
                lambda w: len(w) == 2 and victim not in w,
                timeout=30,
                what="a replacement worker",
            )
            [replacement] = after - before
            # ready again only once both workers have replayed (any worker answers for both)
            async with httpx.AsyncClient(limits=FRESH) as client:
                await eventually(
                    lambda: client.get(f"{base}/health/ready"),
                    lambda r: r.status_code == 200,
                    timeout=30,
                )
                assert await metric(client, base, "aigw_gateway_worker_restarts_total") == 1
            await eventually(
                lambda: answering_pids(base),
                lambda pids: replacement in pids,
                what="the replacement serving",
            )
            calls = tally.calls
            await eventually(lambda: tally.calls >= calls + 50, what="calls go on")

        assert len(tally.failures) <= load.concurrency, tally.failures
        assert tally.ok > 100
        assert "died (exit code -9" in process.log_since_start()

        process.terminate()  # the supervisor's group: the workers drain, then it exits 0
        assert process.proc is not None
        assert await asyncio.to_thread(process.proc.wait, 30) == 0
        assert not workers_of(process)
