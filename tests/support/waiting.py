"""Waiting for a condition, never for a fixed time: a route learned from the stream, a record
stored, a lock lifted, a process ready.

`await eventually(probe, until)` calls `probe` (sync or async) until `until` holds for what it
returns, and returns that value; `until` is a predicate, or a value the result must equal
(default: the result is truthy). `eventually_sync` is the blocking twin, for the end-to-end and
browser tests (which call the services with blocking clients). On time out the failure says
what was awaited (the probe's source line) and the last value seen (or the last exception
raised, for the `ignoring` ones):

    await eventually(lambda: table.routes.get(prefix), lambda route: route.revision >= 2)
    eventually_sync(lambda: portal.chat(path, key).status_code, 200, timeout=1.0)
"""

import asyncio
import inspect
import linecache
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

TIMEOUT = 10.0
INTERVAL = 0.02
_NOTHING = object()
_REPO = Path(__file__).resolve().parents[2]


def _holds(value: Any, until: Any) -> bool:
    return bool(until(value)) if callable(until) else bool(value == until)


def _where(probe: Callable[..., Any]) -> str:
    """The probe's call site as a reader finds it: `file:line: source`."""
    code = getattr(probe, "__code__", None)
    if code is None:
        return getattr(probe, "__qualname__", repr(probe))
    path = Path(code.co_filename)
    shown = path.relative_to(_REPO) if path.is_relative_to(_REPO) else path
    source = linecache.getline(code.co_filename, code.co_firstlineno).strip()
    return f"{shown}:{code.co_firstlineno}: {source}"


def _failure(probe: Callable[..., Any], what: str | None, timeout: float, last: object) -> str:
    seen = "nothing (the probe never returned)" if last is _NOTHING else repr(last)
    if len(seen) > 600:
        seen = seen[:600] + " ..."
    return f"waited {timeout:g}s for {what or _where(probe)}\n  last seen: {seen}"


async def eventually[T](
    probe: Callable[[], T] | Callable[[], Awaitable[T]],
    until: Callable[[T], object] | object = bool,
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    what: str | None = None,
    ignoring: tuple[type[Exception], ...] = (),
) -> T:
    """The first value of `probe()` for which `until` holds, within `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = _NOTHING
    while True:
        try:
            value = probe()
            if inspect.isawaitable(value):
                value = await value
        except ignoring as exc:
            last = exc
        else:
            last = value
            if _holds(value, until):
                return cast(T, value)
        if loop.time() >= deadline:
            raise AssertionError(_failure(probe, what, timeout, last))
        await asyncio.sleep(interval)


def eventually_sync[T](
    probe: Callable[[], T],
    until: Callable[[T], object] | object = bool,
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    what: str | None = None,
    ignoring: tuple[type[Exception], ...] = (),
) -> T:
    """`eventually` for blocking code (no event loop): the same contract."""
    deadline = time.monotonic() + timeout
    last: object = _NOTHING
    while True:
        try:
            value = probe()
        except ignoring as exc:
            last = exc
        else:
            last = value
            if _holds(value, until):
                return value
        if time.monotonic() >= deadline:
            raise AssertionError(_failure(probe, what, timeout, last))
        time.sleep(interval)


# A service's start-up (indexes, NATS consumers, a signing key) on a loaded 2-core CI machine
# can pass asgi-lifespan's 5 s default; the bound is for hangs, not for speed.
LIFESPAN_BOUNDS = {"startup_timeout": 60.0, "shutdown_timeout": 30.0}
