"""The access log (`GATEWAY_ACCESS_LOG`: off, stdout or a file path): one JSON line per call.

    {"time": "2026-05-01T09:12:03.417Z", "request_id": "...", "api": "MistralAIAPI:0.0.2",
     "application": "...", "key_type": "PRODUCTION", "model": "mistral-small-latest",
     "target": "production", "status": 200, "input_tokens": 12, "output_tokens": 30,
     "latency_ms": 84.2, "upstream_ms": 83.7, "cache": null, "guardrail": null}

The call only appends a tuple of plain values to a bounded in-memory queue (`add`); a
background task turns the queue into lines every `interval` seconds and writes them in one
write off the event loop's thread, so the hot path does no I/O and no formatting. A full queue
(`MAX_QUEUED`, a stalled disk or pipe) drops the new entries and counts them
(`aigw_gateway_access_log_dropped_total`). Nothing secret is in a line: no key, token or
header, no prompt or answer; the model is the served one, else the caller's (clipped).
"""

import asyncio
import collections
import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aigw.gateway.asgi import CLIENT_CLOSED
from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.meter import Usage

log = logging.getLogger(__name__)

MAX_QUEUED = 100_000
_MODEL_CHARS = 128

# (time, request id, api label, application, key type, model, target, status, input tokens,
#  output tokens, total seconds, upstream seconds, cache, guardrail, guardrail direction)
Entry = tuple[
    float, str, str, str | None, str | None, str | None, str | None, int, int, int,
    float, float | None, str | None, str | None, str | None,
]  # fmt: skip


def entry(call: Invocation, usage: Usage, seconds: float, upstream: float | None) -> Entry:
    """What the access log keeps of a settled call (plain values; formatted later)."""
    key = call.entry
    model = usage.served_model or call.facts.model
    target = call.target.endpoint if call.target is not None else None
    if target is None and key is not None and call.provider_status:
        target = "production" if key.key_type == "PRODUCTION" else "sandbox"
    guardrail = call.intervention
    return (
        time.time(), call.request_id, call.label,
        key.application_id if key is not None else None,
        key.key_type if key is not None else None,
        model[:_MODEL_CHARS] if model else None, target,
        CLIENT_CLOSED if call.client_gone else call.status,
        usage.prompt_tokens, usage.completion_tokens, seconds, upstream, call.cache,
        guardrail.guardrail if guardrail else None, guardrail.direction if guardrail else None,
    )  # fmt: skip


_second: list[Any] = [None, ""]  # the last second formatted, and its text (lines share it)


def _time(at: float) -> str:
    second = int(at)
    if _second[0] != second:
        _second[:] = [second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_second[1]}.{int((at - second) * 1000):03d}Z"


def line(e: Entry) -> str:
    guardrail = {"name": e[13], "direction": e[14]} if e[13] is not None else None
    return json.dumps(
        {
            "time": _time(e[0]),
            "request_id": e[1],
            "api": e[2],
            "application": e[3],
            "key_type": e[4],
            "model": e[5],
            "target": e[6],
            "status": e[7],
            "input_tokens": e[8],
            "output_tokens": e[9],
            "latency_ms": round(e[10] * 1000, 3),
            "upstream_ms": None if e[11] is None else round(e[11] * 1000, 3),
            "cache": e[12],
            "guardrail": guardrail,
        },
        separators=(",", ":"),
    )


class AccessLog:
    def __init__(self, out: IO[str], interval: float = 0.25, batch_size: int = 250) -> None:
        self._out, self.interval, self.batch_size = out, interval, batch_size
        self._queue: collections.deque[Entry] = collections.deque()
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def open(cls, where: str) -> "AccessLog | None":
        """The log `GATEWAY_ACCESS_LOG` asks for (None: off); a file is appended to."""
        if where == "off":
            return None
        if where == "stdout":
            return cls(sys.stdout)
        return cls(Path(where).open("a", encoding="utf-8"))  # closed in stop()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def add(self, e: Entry) -> None:
        if len(self._queue) >= MAX_QUEUED:
            self.dropped += 1
            return
        self._queue.append(e)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-access-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
        if self._out is not sys.stdout:
            self._out.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except OSError as exc:  # a full disk, a closed pipe: the lines are lost, not the call
                log.warning("access log lines not written: %r", exc)

    async def flush(self) -> None:
        """Write what is queued, `batch_size` lines at a time (each formatted on the loop in
        well under a millisecond, then written from a worker thread)."""
        queue = self._queue
        while queue:
            count = min(self.batch_size, len(queue))
            text = "".join([line(queue.popleft()) + "\n" for _ in range(count)])
            await asyncio.to_thread(self._write, text)

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def collector(self) -> Collector:
        return _AccessLogCollector(self)


class _AccessLogCollector(Collector):
    def __init__(self, access_log: AccessLog) -> None:
        self._log = access_log

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "aigw_gateway_access_log_dropped",
            "Access log lines dropped: the queue was full (the log's output too slow)",
            self._log.dropped,
        )
        yield GaugeMetricFamily(
            "aigw_gateway_access_log_queued",
            "Access log lines waiting to be written",
            self._log.queued,
        )
