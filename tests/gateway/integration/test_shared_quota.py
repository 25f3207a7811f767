"""Two gateway processes (python -m aigw.gateway) share one request quota over NATS.

For a plan of N requests, 3N concurrent calls are spread over both. Each process admits while
`known + unsent x peers < N` (see quota.book): concurrent processes split what is left instead
of each spending all of it, so the overshoot comes only from counts in flight between
processes when a tick's publication crosses the peer's admissions. Bound asserted here:
N + OVERSHOOT_BOUND (see the README for the measured overshoot).
"""

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import KeyIssued, PolicyUpdated, QuotaLimit, SubscriptionCreated
from aigw.devtools.processes import ManagedProcess, free_port
from tests.gateway.integration.conftest import MOCK_CONTROL_HEADERS, deploy_event
from tests.gateway.integration.usage_support import CHAT, PATH, bearer

pytestmark = pytest.mark.integration

N = 30
OVERSHOOT_BOUND = 3  # P - 1 = 1 call per crossing tick; a few crossings during one burst


@pytest.fixture
def two_gateways(infra, secret_key, tmp_path: Path) -> Iterator[list[str]]:
    processes = []
    for index in range(2):
        port = free_port()
        env = {
            "AIGW_SECRET_KEY": secret_key,
            **infra.bus_env("gateway"),
            "GATEWAY_PORT": str(port),
            "GATEWAY_NAME": f"gw{index}",
            "AIGW_LOG_LEVEL": "WARNING",
            "GATEWAY_FORWARD_HEADERS": MOCK_CONTROL_HEADERS,
            "AIGW_DEV_MODE": "true",  # the mock provider is on this machine
        }
        argv = [sys.executable, "-m", "aigw.gateway"]
        processes.append(
            ManagedProcess(
                f"gateway-{index}",
                argv,
                port=port,
                env={**os.environ, **env},
                ready_url=f"http://127.0.0.1:{port}/health/ready",
                log_path=tmp_path / f"gateway-{index}.log",
            )
        )
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready(30)
        yield [f"http://127.0.0.1:{p.port}" for p in processes]
    finally:
        for process in processes:
            process.stop()


async def peers(client: httpx.AsyncClient, url: str) -> float:
    text = (await client.get(f"{url}/metrics")).text
    [line] = [line for line in text.splitlines() if line.startswith("aigw_gateway_quota_peers ")]
    return float(line.split()[1])


async def wait_for_peers(urls: list[str]) -> None:
    """Until each process knows the other (gateways of other tests may be live too)."""
    deadline = asyncio.get_running_loop().time() + 10
    async with httpx.AsyncClient() as client:
        for url in urls:
            while await peers(client, url) < 1:
                assert asyncio.get_running_loop().time() < deadline, "gateways never met"
                await asyncio.sleep(0.05)


async def wait_routed(urls: list[str], prefix: str, key: str) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    async with httpx.AsyncClient() as client:
        for url in urls:
            while (
                await client.get(f"{url}/{prefix}/v1/models", headers=bearer(key))
            ).status_code != 200:
                assert asyncio.get_running_loop().time() < deadline, "not routed"
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("spread", [True, False], ids=["spread", "one-sided"])
async def test_two_processes_share_one_request_quota(events, mock_provider, two_gateways, spread):
    """Spread: calls alternate between the processes. One-sided: all go to one of them while
    the other idles (its peer must not be held back by the split-what-is-left rule)."""
    unique = uuid.uuid4().hex[:8]
    api_id, app_id, prefix = f"api-{unique}", f"app-{unique}", f"chat{unique}/1.0"
    plan, key = f"shared-{unique}", f"prod-{unique}"
    await events.publish(
        PolicyUpdated(name=plan, limits=[QuotaLimit(unit="day", requests=N + 2)]),
        deploy_event(events, api_id, prefix, mock_provider, unique),
        SubscriptionCreated(
            subscription_id=f"sub-{unique}", application_id=app_id, api_id=api_id, policy=plan
        ),
        KeyIssued(
            key_id=f"kp-{unique}",
            key_hash=sha256_hex(key),
            application_id=app_id,
            key_type="PRODUCTION",
        ),
    )
    await wait_routed(two_gateways, prefix, key)  # one request on each: 2 of the N + 2 used
    await wait_for_peers(two_gateways)
    headers = {**bearer(key), "x-mock-latency-ms": "100"}
    limits = httpx.Limits(max_connections=4 * N)
    started = asyncio.get_running_loop().time()
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{two_gateways[i % 2 if spread else 0]}/{prefix}{PATH}",
                    json=CHAT,
                    headers=headers,
                )
                for i in range(3 * N)
            )
        )
    accepted = sum(a.status_code == 200 for a in answers)
    assert {a.status_code for a in answers} <= {200, 429}
    seconds = asyncio.get_running_loop().time() - started
    print(f"\nshared quota: N={N}, accepted {accepted}/{3 * N}, overshoot {accepted - N}")  # noqa: T201
    print(f"burst answered in {seconds:.2f} s")  # noqa: T201
    assert N <= accepted <= N + OVERSHOOT_BOUND


@pytest.fixture
def gateway_with_workers(infra, secret_key, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        "AIGW_SECRET_KEY": secret_key,
        **infra.bus_env("gateway"),
        "GATEWAY_PORT": str(port),
        "GATEWAY_WORKERS": "2",
        "AIGW_LOG_LEVEL": "WARNING",
        "GATEWAY_FORWARD_HEADERS": MOCK_CONTROL_HEADERS,
        "AIGW_DEV_MODE": "true",  # the mock provider is on this machine
    }
    process = ManagedProcess(
        "gateway-workers",
        [sys.executable, "-m", "aigw.gateway"],
        port=port,
        env={**os.environ, **env},
        ready_url=f"http://127.0.0.1:{port}/health/ready",
        log_path=tmp_path / "gateway-workers.log",
    )
    process.start()
    try:
        process.wait_ready(30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


async def wait_workers_ready(url: str, fresh: httpx.Limits) -> None:
    """Until 20 fresh connections in a row (either worker) find a ready worker that knows its
    peer: the fixture's readiness check only saw whichever worker answered first."""
    deadline = asyncio.get_running_loop().time() + 30
    in_a_row = 0
    async with httpx.AsyncClient(limits=fresh) as client:
        while in_a_row < 20:
            assert asyncio.get_running_loop().time() < deadline, "workers never both ready"
            ready = (await client.get(f"{url}/health/ready")).status_code == 200
            in_a_row = in_a_row + 1 if ready and await peers(client, url) >= 1 else 0
            await asyncio.sleep(0 if in_a_row else 0.05)


async def test_workers_of_one_gateway_share_one_request_quota(
    events, mock_provider, gateway_with_workers
):
    """GATEWAY_WORKERS=2: two processes on one port; each is a quota peer of the other."""
    url = gateway_with_workers
    unique = uuid.uuid4().hex[:8]
    api_id, app_id, prefix = f"api-{unique}", f"app-{unique}", f"chat{unique}/1.0"
    plan, key = f"workers-{unique}", f"prod-{unique}"
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection: either worker
    await wait_workers_ready(url, fresh)
    await events.publish(
        PolicyUpdated(name=plan, limits=[QuotaLimit(unit="day", requests=N)]),
        deploy_event(events, api_id, prefix, mock_provider, unique),
        SubscriptionCreated(
            subscription_id=f"sub-{unique}", application_id=app_id, api_id=api_id, policy=plan
        ),
        KeyIssued(
            key_id=f"kp-{unique}",
            key_hash=sha256_hex(key),
            application_id=app_id,
            key_type="PRODUCTION",
        ),
    )
    target = f"{url}/{prefix}{PATH}"
    accepted = 0
    async with httpx.AsyncClient(timeout=30, limits=fresh) as client:
        in_a_row = 0
        while in_a_row < 4:  # routed in both workers (these calls count against the quota)
            ok = (await client.post(target, json=CHAT, headers=bearer(key))).status_code == 200
            accepted += ok
            in_a_row = in_a_row + 1 if ok else 0
            await asyncio.sleep(0 if ok else 0.05)
    headers = {**bearer(key), "x-mock-latency-ms": "100"}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=4 * N)) as client:
        answers = await asyncio.gather(
            *(client.post(target, json=CHAT, headers=headers) for _ in range(3 * N))
        )
    assert {a.status_code for a in answers} <= {200, 429}
    accepted += sum(a.status_code == 200 for a in answers)
    assert N <= accepted <= N + OVERSHOOT_BOUND
