"""The store (MongoDB) going away and coming back, measured on the platform's processes: how
long a management call takes to answer 503 (keymanager's login, publisher's `GET /apis` and a
deploy), how long readiness takes to say 503 after the store stops, and, once the store is
back on the same data file, how long until login and readiness succeed again (no service
restarted). The gateway's calls are counted throughout. Run with
`python -m aigw.devtools.bench_store_outage [--rounds N]`."""

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from aigw.common.crypto import generate_master_key
from aigw.devtools.processes import ManagedProcess
from aigw.devtools.stack import Ports, Stack, StackConfig
from aigw.devtools.walkthrough import Provisioned, provision

LOGIN = "/api/keymanager/v1/auth/login"
APIS = "/api/publisher/v1/apis"


async def _until(probe: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> float:
    """Seconds until `probe()` holds, polled every 20 ms."""
    started = time.monotonic()
    while not await probe():
        if time.monotonic() - started > timeout:
            raise TimeoutError("the condition never held")
        await asyncio.sleep(0.02)  # the polling interval: what is measured is time passing
    return time.monotonic() - started


async def _timed(call: Awaitable[httpx.Response], status: int) -> float:
    started = time.monotonic()
    response = await call
    assert response.status_code == status, response.text
    return time.monotonic() - started


class Outage:
    def __init__(self, stack: Stack, api: Provisioned, password: str) -> None:
        self.stack, self.api, self.password = stack, api, password
        [self.store] = [p for p in stack.processes if p.name == "mongodb"]
        self.http = httpx.AsyncClient(timeout=30)
        self.gateway_calls = {"ok": 0, "failed": 0}

    def login(self) -> Awaitable[httpx.Response]:
        body = {"username": "admin", "password": self.password}
        return self.http.post(self.stack.url("keymanager") + LOGIN, json=body)

    async def _ready(self, service: str, status: int) -> bool:
        url = self.stack.url(service) + "/health/ready"
        return (await self.http.get(url)).status_code == status

    async def _login_is(self, status: int) -> bool:
        return (await self.login()).status_code == status

    async def serve(self, stop: asyncio.Event) -> None:
        """Calls to the gateway, one after another, until `stop`."""
        url = f"{self.stack.url('gateway')}/{self.api.route_prefix}/v1/chat/completions"
        body = {"model": "mistral-small", "messages": [{"role": "user", "content": "hi"}]}
        headers = {"Authorization": f"Bearer {self.api.production_key}"}
        while not stop.is_set():
            ok = (await self.http.post(url, json=body, headers=headers)).status_code == 200
            self.gateway_calls["ok" if ok else "failed"] += 1

    async def round(self, token: str) -> dict[str, float]:
        auth = {"Authorization": f"Bearer {token}"}
        publisher = self.stack.url("publisher")
        deploy = f"{publisher}{APIS}/{self.api.api_id}/deploy"
        stopped = time.monotonic()
        await asyncio.to_thread(self.store.stop)
        figures = {"store stop (s)": time.monotonic() - stopped}
        figures["readiness 503 after stop"] = await _until(lambda: self._ready("publisher", 503))
        figures["login -> 503"] = await _timed(self.login(), 503)
        figures["GET /apis -> 503"] = await _timed(
            self.http.get(publisher + APIS, headers=auth), 503
        )
        figures["deploy -> 503"] = await _timed(self.http.post(deploy, headers=auth), 503)
        await asyncio.to_thread(_restart, self.store)
        figures["login 200 after store back"] = await _until(lambda: self._login_is(200))
        figures["readiness 200 after store back"] = await _until(
            lambda: self._ready("publisher", 200)
        )
        return figures


def _restart(store: ManagedProcess) -> None:
    store.start()
    store.wait_ready(30)


async def measure(stack: Stack, api: Provisioned, password: str, rounds: int) -> list[str]:
    outage = Outage(stack, api, password)
    token = (await outage.login()).json()["access_token"]
    stop = asyncio.Event()
    serving = asyncio.create_task(outage.serve(stop))
    results = [await outage.round(token) for _ in range(rounds)]
    stop.set()
    await serving
    await outage.http.aclose()
    lines = [f"store outage, {rounds} rounds (median, max; seconds):"]
    for name in results[0]:
        values = [r[name] for r in results]
        lines.append(f"  {name:34} {statistics.median(values):6.3f}  {max(values):6.3f}")
    calls = outage.gateway_calls
    lines.append(f"  gateway calls meanwhile: {calls['ok']} ok, {calls['failed']} failed")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    password = generate_master_key()
    with tempfile.TemporaryDirectory(prefix="aigw-store-outage-") as tmp:
        config = StackConfig(
            data_dir=Path(tmp),
            secret_key=generate_master_key(),
            admin_password=password,
            ports=Ports.free(),
            persist_store=True,  # the store comes back on its file
        )
        stack = Stack(config)
        stack.processes = [p for p in stack.processes if p.name != "embeddings"]
        with stack:
            api = provision(stack, password, "outageapi")
            lines = asyncio.run(measure(stack, api, password, args.rounds))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
