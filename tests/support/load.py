"""Steady load on a gateway while its processes come and go (rolling restarts, a killed worker):
`SteadyLoad` runs client loops until stopped and tallies every call, and `children_of` finds
a supervisor's worker processes."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from tests.support.gateway import CHAT, bearer

STREAM = {**CHAT, "stream": True}


@dataclass
class Tally:
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    streams_started: int = 0
    streams_completed: int = 0

    @property
    def calls(self) -> int:
        return self.ok + len(self.failures)


class SteadyLoad:
    """Client loops calling `url` with `key` until stopped: `keepalive` loops on one kept-alive
    connection each, `fresh` loops on a new connection per call, `streams` loops of streamed
    calls (each paced by the mock's `chunk_delay_ms`, so a restart finds some in flight). A
    call fails on any transport error or an answer other than 200; a stream completes when
    it ends with `data: [DONE]`. At most one call per loop is in flight at any time."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        keepalive: int = 2,
        fresh: int = 2,
        streams: int = 2,
        chunk_delay_ms: int = 50,
    ) -> None:
        self.url, self.key = url, key
        self.loops = {"keepalive": keepalive, "fresh": fresh, "streams": streams}
        self.chunk_delay_ms = chunk_delay_ms
        self.tally = Tally()
        self._stop = asyncio.Event()

    @property
    def concurrency(self) -> int:
        """The most calls in flight at once (one per loop)."""
        return sum(self.loops.values())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Tally]:
        tasks = [
            asyncio.create_task(self._loop(kind))
            for kind, count in self.loops.items()
            for _ in range(count)
        ]
        try:
            yield self.tally
        finally:
            self._stop.set()
            await asyncio.gather(*tasks)

    async def _loop(self, kind: str) -> None:
        limits = httpx.Limits(max_keepalive_connections=0 if kind == "fresh" else 1)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            while not self._stop.is_set():
                await self._call(client, kind)
                # pacing, so the load is steady rather than all the CPU this machine has
                await asyncio.sleep(0.005)

    async def _call(self, client: httpx.AsyncClient, kind: str) -> None:
        headers = bearer(self.key)
        try:
            if kind == "streams":
                await self._stream(client, headers)
                return
            response = await client.post(self.url, json=CHAT, headers=headers)
            self._count(kind, response.status_code, response.text)
        except httpx.HTTPError as exc:
            self.tally.failures.append(f"{kind}: {exc!r}")

    async def _stream(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        headers = {**headers, "x-mock-chunk-delay-ms": str(self.chunk_delay_ms)}
        self.tally.streams_started += 1
        async with client.stream("POST", self.url, json=STREAM, headers=headers) as response:
            body = await response.aread()
        self._count("stream", response.status_code, body.decode(errors="replace"))
        if response.status_code == 200 and body.rstrip().endswith(b"data: [DONE]"):
            self.tally.streams_completed += 1

    def _count(self, kind: str, status: int, text: str) -> None:
        if status == 200:
            self.tally.ok += 1
        else:
            self.tally.failures.append(f"{kind}: {status} {text[:200]}")


def children_of(pid: int) -> set[int]:
    """The live child processes of `pid` (from /proc: each one's parent)."""
    children = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                children.add(int(entry))
    return children
