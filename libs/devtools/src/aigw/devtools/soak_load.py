"""The soak's traffic (aigw.devtools.soak): gateway calls at a steady rate, and the management
changes made meanwhile.

The calls, by their index: mostly non-streaming chat completions, every fourth streamed, every
fifth on the sandbox key, every tenth on the rotating key, and two in a hundred refused on
purpose (an unknown key: 401, an unknown API: 404). Each call is checked: the status it must
have, a JSON answer with choices, or a stream that ends with `data: [DONE]`; anything else is
an error of its kind (`status 502`, `ServerDisconnectedError`, `stream without [DONE]`).

Management, once a minute each: a deploy of the loaded API, and a rotation of the rotating key
(alternately replaced by a new key and then revoked, or regenerated in place), during which its
share of calls moves to a stable key so that no call carries a key being revoked. The old
secret must then be refused: how long that takes is measured.
"""

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

from aigw.devtools.bench import BODY, STREAM_BODY
from aigw.devtools.stack import Stack
from aigw.devtools.walkthrough import Provisioned, login

REFUSED_KEY = "soak-no-such-key"
SERVED = 200
TOKEN_REUSE_SECONDS = 1200.0  # well within keymanager's default token lifetime (an hour)


@dataclass
class Tally:
    """Every gateway call the soak made: by kind, its errors, and the served calls' latency."""

    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"chat": [], "stream": []})
    served: int = 0  # calls answered 200: each must appear in the usage reports
    management: collections.Counter[str] = field(default_factory=collections.Counter)
    deploy_seconds: list[float] = field(default_factory=list)
    refused_after_revoke_seconds: list[float] = field(default_factory=list)

    def error(self, kind: str) -> None:
        self.errors[kind] += 1


class KeySlot:
    """The key the rotating share of calls carries, and how many calls carry each key now."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.in_flight: collections.Counter[str] = collections.Counter()

    def take(self) -> str:
        self.in_flight[self.key] += 1
        return self.key

    def give_back(self, key: str) -> None:
        self.in_flight[key] -= 1

    async def swap(self, key: str) -> str:
        """Carry `key` from now on; returns the previous key once no call carries it."""
        old, self.key = self.key, key
        await until(lambda: self.in_flight[old] <= 0, 30, f"calls on key {old[:6]}… ended")
        return old


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for a condition the soak itself makes true (polled, with a deadline)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not in {timeout:g} s: {what}")
        await asyncio.sleep(0.01)


class Load:
    """One soak's gateway calls, on one API."""

    def __init__(self, stack: Stack, api: Provisioned, tally: Tally) -> None:
        self.url = f"{stack.url('gateway')}/{api.route_prefix}/v1/chat/completions"
        self.unknown_url = f"{stack.url('gateway')}/soak-no-such-api/1.0.0/v1/chat/completions"
        self.api, self.tally = api, tally
        self.rotating = KeySlot(api.production_key)

    async def one(self, session: aiohttp.ClientSession, i: int) -> None:
        """The `i`th call of the mix (see the module's docstring)."""
        if i % 100 == 50:
            await self.call(session, "refused: unknown key", REFUSED_KEY, 401)
        elif i % 100 == 99:
            await self.call(session, "refused: unknown API", self.api.production_key, 404)
        elif i % 10 == 3:
            key = self.rotating.take()
            try:
                await self.call(session, "rotating key", key, 200, stream=i % 4 == 1)
            finally:
                self.rotating.give_back(key)
        else:
            key = self.api.sandbox_key if i % 5 == 2 else self.api.production_key
            await self.call(
                session, "sandbox" if i % 5 == 2 else "production", key, 200, i % 4 == 1
            )

    async def call(
        self, session: aiohttp.ClientSession, kind: str, key: str, want: int, stream: bool = False
    ) -> int | None:
        """One call, tallied; returns its status (None when it raised)."""
        url = self.unknown_url if kind == "refused: unknown API" else self.url
        headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
        self.tally.calls[f"{kind}{', streamed' if stream else ''}"] += 1
        started = time.perf_counter()
        try:
            async with session.post(
                url, data=STREAM_BODY if stream else BODY, headers=headers
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.tally.error(type(exc).__name__)
            return None
        took = time.perf_counter() - started
        if status == SERVED:
            self.tally.served += 1
        if status != want:
            self.tally.error(f"status {status} ({kind})")
        elif status == SERVED and (problem := _answer_problem(body, stream)):
            self.tally.error(problem)
        elif status == SERVED:
            self.tally.latencies["stream" if stream else "chat"].append(took)
        return status

    async def probe(self, session: aiohttp.ClientSession, key: str) -> int | None:
        """A management check's call (is a key served yet, refused yet): no error either way."""
        headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
        self.tally.calls["management probe"] += 1
        try:
            async with session.post(self.url, data=BODY, headers=headers) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.tally.error(f"probe {type(exc).__name__}")
            return None
        if response.status == SERVED:
            self.tally.served += 1
        return response.status


def _answer_problem(body: bytes, stream: bool) -> str | None:
    if stream:
        return None if body.rstrip().endswith(b"data: [DONE]") else "stream without [DONE]"
    return None if b'"choices"' in body else "answer without choices"


async def drive(load: Load, session: aiohttp.ClientSession, rate: float, seconds: float) -> None:
    """Calls at `rate` per second for `seconds`, each started on schedule (an open loop: a
    slow answer never delays the next call), then waits for the last ones."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    running: set[asyncio.Task[None]] = set()
    i = 0
    while (due := started + i / rate) < started + seconds:
        await asyncio.sleep(max(0.0, due - loop.time()))
        task = asyncio.create_task(load.one(session, i))
        running.add(task)
        task.add_done_callback(running.discard)
        i += 1
    await asyncio.gather(*running)


class Management:
    """The management changes made during the soak, as the admin, over the public APIs."""

    def __init__(self, stack: Stack, password: str, load: Load) -> None:
        self.stack, self.password, self.load = stack, password, load
        self.tally = load.tally
        self.regenerate_next = False
        self.key_id: str | None = None  # the rotating key's, once it is not the stable key
        self._auth: tuple[float, dict[str, str]] | None = None  # (when, the header)

    async def every(self, period: float, seconds: float, session: aiohttp.ClientSession) -> None:
        """A deploy every `period`, and a key rotation half a period later, for `seconds`."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() + period <= end:
            await asyncio.sleep(period / 2)
            await self._guarded("deploy", self.deploy)
            await asyncio.sleep(period / 2)
            await self._guarded("key rotation", lambda: self.rotate_key(session))

    async def _guarded(self, what: str, change: Callable[[], Awaitable[None]]) -> None:
        try:
            await change()
        except (httpx.HTTPError, RuntimeError, TimeoutError) as exc:
            self.tally.error(f"management: {what}: {exc}"[:200])

    async def _clients(self) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
        # a sign-in hashes the password (argon2, tens of MiB for a moment in keymanager): one
        # token for a while, not one per change, so keymanager's RSS samples are not noise
        if self._auth is None or time.monotonic() - self._auth[0] > TOKEN_REUSE_SECONDS:
            self._auth = (
                time.monotonic(),
                await asyncio.to_thread(login, self.stack, self.password),
            )
        auth = self._auth[1]
        publisher = f"{self.stack.url('publisher')}/api/publisher/v1"
        devportal = f"{self.stack.url('devportal')}/api/devportal/v1"
        return (
            httpx.AsyncClient(base_url=publisher, headers=auth, timeout=30),
            httpx.AsyncClient(base_url=devportal, headers=auth, timeout=30),
        )

    async def deploy(self) -> None:
        pub, dev = await self._clients()
        async with pub, dev:
            started = time.perf_counter()
            _ok(await pub.post(f"/apis/{self.load.api.api_id}/deploy"))
            self.tally.deploy_seconds.append(time.perf_counter() - started)
        self.tally.management["deploys"] += 1

    async def rotate_key(self, session: aiohttp.ClientSession) -> None:
        """Replace the rotating key by a new one and revoke the old, or regenerate it in place
        (alternately; the first rotation has nothing to regenerate yet); either way its old
        secret must be refused, soon."""
        pub, dev = await self._clients()
        app = self.load.api.application_id
        slot = self.load.rotating
        async with pub, dev:
            if self.regenerate_next and self.key_id is not None:
                old = await slot.swap(self.load.api.production_key)
                path = f"/applications/{app}/api-keys/{self.key_id}/regenerate"
                sent = time.perf_counter()
                new = _ok(await dev.post(path))
                await self._refused(session, old, sent)
                await self._served(session, new["apiKey"])
                await slot.swap(new["apiKey"])
                self.tally.management["keys regenerated"] += 1
            else:
                new = _ok(await dev.post(f"/applications/{app}/api-keys", json=_PRODUCTION))
                await self._served(session, new["apiKey"])
                old, old_id = await slot.swap(new["apiKey"]), self.key_id
                self.key_id = new["id"]
                if old_id is not None:  # the first rotation moves off the stable key: kept
                    sent = time.perf_counter()
                    _ok(await dev.delete(f"/applications/{app}/api-keys/{old_id}"))
                    await self._refused(session, old, sent)
                self.tally.management["keys replaced and revoked"] += 1
        self.regenerate_next = not self.regenerate_next

    async def _served(self, session: aiohttp.ClientSession, key: str) -> None:
        await self._until_status(session, key, 200, "a new key served")

    async def _refused(self, session: aiohttp.ClientSession, key: str, since: float) -> None:
        await self._until_status(session, key, 401, "a revoked key refused")
        self.tally.refused_after_revoke_seconds.append(time.perf_counter() - since)

    async def _until_status(
        self, session: aiohttp.ClientSession, key: str, status: int, what: str
    ) -> None:
        deadline = time.monotonic() + 30
        while await self.load.probe(session, key) != status:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not in 30 s: {what}")
            await asyncio.sleep(0.01)


_PRODUCTION = {"keyType": "PRODUCTION"}


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:200]}"
        )
    return response.json() if response.content else None
