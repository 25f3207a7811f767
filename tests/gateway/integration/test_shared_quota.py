"""Two gateway processes (python -m aigw.gateway) share one request quota over NATS.

For a plan of N requests, 3N concurrent calls are spread over both. Each process admits while
`known + unsent x peers < N` (see quota.book): concurrent processes split what is left instead
of each spending all of it, so the overshoot comes only from counts in flight between
processes when a tick's publication crosses the peer's admissions. Bound asserted here:
N + OVERSHOOT_BOUND (see the README for the measured overshoot).
"""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aigw.common.events import PolicyUpdated, QuotaLimit
from tests.support.gateway import (
    CHAT,
    MOCK_CONTROL_HEADERS,
    PATH,
    Events,
    access,
    bearer,
    deploy_event,
    gateway_processes,
    gateway_subprocess,
    metric,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

N = 30
OVERSHOOT_BOUND = 3  # P - 1 = 1 call per crossing tick; a few crossings during one burst


@pytest.fixture
def two_gateways(infra, secret_key, tmp_path: Path) -> Iterator[list[str]]:
    with gateway_processes(infra, secret_key, tmp_path, "gw") as urls:
        yield urls


async def peers(client: httpx.AsyncClient, url: str) -> float:
    return await metric(client, url, "aigw_gateway_quota_peers")


async def wait_for_peers(urls: list[str]) -> None:
    """Until each process knows the other (gateways of other tests may be live too)."""
    async with httpx.AsyncClient() as client:
        for url in urls:
            await eventually(
                lambda url=url: peers(client, url),
                lambda n: n >= 1,
                interval=0.05,
                what=f"{url} meeting its peer",
            )


async def api_on_a_plan(
    events: Events, mock_provider: str, plan_stem: str, requests: int
) -> tuple[str, str]:
    """Both tests' API: deployed, with a key on a plan of its own of `requests` a day (the
    quota the gateways share): (route prefix, key)."""
    unique = uuid.uuid4().hex[:8]
    api_id, app_id, prefix = f"api-{unique}", f"app-{unique}", f"chat{unique}/1.0"
    plan, key = f"{plan_stem}-{unique}", f"prod-{unique}"
    await events.publish(
        PolicyUpdated(name=plan, limits=[QuotaLimit(unit="day", requests=requests)]),
        deploy_event(events, api_id, prefix, mock_provider, unique),
        *access(api_id, app_id, key, plan),
    )
    return prefix, key


async def wait_routed(urls: list[str], prefix: str, key: str) -> None:
    async with httpx.AsyncClient() as client:
        for url in urls:
            await eventually(
                lambda url=url: client.get(f"{url}/{prefix}/v1/models", headers=bearer(key)),
                lambda response: response.status_code == 200,
                interval=0.05,
                what=f"{prefix} routed at {url}",
            )


@pytest.mark.parametrize("spread", [True, False], ids=["spread", "one-sided"])
async def test_two_processes_share_one_request_quota(events, mock_provider, two_gateways, spread):
    """Spread: calls alternate between the processes. One-sided: all go to one of them while
    the other idles (its peer must not be held back by the split-what-is-left rule)."""
    prefix, key = await api_on_a_plan(events, mock_provider, "shared", N + 2)
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
    workers = {
        "GATEWAY_WORKERS": "2",
        "AIGW_LOG_LEVEL": "WARNING",
        "GATEWAY_FORWARD_HEADERS": MOCK_CONTROL_HEADERS,
    }
    log = tmp_path / "gateway-workers.log"
    with gateway_subprocess(infra, secret_key, log, **workers) as process:
        yield f"http://127.0.0.1:{process.port}"


async def wait_workers_ready(url: str, fresh: httpx.Limits) -> None:
    """Until 20 fresh connections in a row (either worker) find a ready worker that knows its
    peer: the fixture's readiness check only saw whichever worker answered first."""
    async with httpx.AsyncClient(limits=fresh) as client:

        async def in_a_row() -> int:
            for count in range(20):
                ready = (await client.get(f"{url}/health/ready")).status_code == 200
                if not ready or await peers(client, url) < 1:
                    return count
            return 20

        await eventually(in_a_row, 20, timeout=30, interval=0.05)


async def test_workers_of_one_gateway_share_one_request_quota(
    events, mock_provider, gateway_with_workers
):
    """GATEWAY_WORKERS=2: two processes on one port; each is a quota peer of the other."""
    url = gateway_with_workers
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection: either worker
    await wait_workers_ready(url, fresh)
    prefix, key = await api_on_a_plan(events, mock_provider, "workers", N)
    target = f"{url}/{prefix}{PATH}"
    accepted = 0
    async with httpx.AsyncClient(timeout=30, limits=fresh) as client:

        async def served_in_a_row() -> int:
            """Calls until one is refused, up to 4 (each accepted one counts against the
            quota): 4 in a row means both workers route the API."""
            nonlocal accepted
            for count in range(4):
                if (await client.post(target, json=CHAT, headers=bearer(key))).status_code != 200:
                    return count
                accepted += 1
            return 4

        await eventually(served_in_a_row, 4, timeout=30, interval=0.05)
    headers = {**bearer(key), "x-mock-latency-ms": "100"}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=4 * N)) as client:
        answers = await asyncio.gather(
            *(client.post(target, json=CHAT, headers=headers) for _ in range(3 * N))
        )
    assert {a.status_code for a in answers} <= {200, 429}
    accepted += sum(a.status_code == 200 for a in answers)
    assert N <= accepted <= N + OVERSHOOT_BOUND
