"""How the mock is steered: the `/_mock/...` control endpoints, and the controls in effect for
one request (a request header wins over its first path segment's settings, which win over
the global ones)."""

import collections
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aigw.devtools.mock_provider import config as settings
from aigw.devtools.mock_provider.asgi import (
    ErrorShape,
    Receive,
    Send,
    error_response,
    json_response,
    read_body,
)
from aigw.devtools.mock_provider.config import MockConfig
from aigw.devtools.mock_provider.content import first_segment


@dataclass(slots=True)
class Controls:
    """The configured controls for one request: the global settings with its segment's
    overrides (the request's own `x-mock-*` headers are read where they apply)."""

    latency_ms: float
    fail_status: int | None
    chunk_delay_ms: float
    break_after_chunks: int
    gzip: bool


@dataclass(slots=True)
class Pacing:
    """How a streamed answer is sent: `delay_ms` before every event, and with `break_after` > 0
    only that many events before the connection is dropped."""

    receive: Receive
    delay_ms: float
    break_after: int


def configured(config: MockConfig, path: str) -> Controls:
    controls = Controls(
        config.latency_ms,
        config.fail_status,
        config.chunk_delay_ms,
        config.break_after_chunks,
        config.gzip,
    )
    override = config.segments.get(first_segment(path)) if config.segments else None
    if not override:
        return controls
    return Controls(
        override.get("latencyMs", controls.latency_ms),
        override.get("failStatus", controls.fail_status),
        override.get("chunkDelayMs", controls.chunk_delay_ms),
        override.get("breakAfterChunks", controls.break_after_chunks),
        override.get("gzip", controls.gzip),
    )


def latency_ms(controls: Controls, headers: dict[str, str]) -> float:
    return float(headers.get("x-mock-latency-ms") or controls.latency_ms)


def fail_status(controls: Controls, headers: dict[str, str]) -> int | None:
    header = headers.get("x-mock-status")
    return int(header) if header else controls.fail_status


def pacing(controls: Controls, headers: dict[str, str], receive: Receive) -> Pacing:
    delay = float(headers.get("x-mock-chunk-delay-ms") or controls.chunk_delay_ms)
    break_after = int(headers.get("x-mock-break-after-chunks") or controls.break_after_chunks)
    return Pacing(receive, delay, break_after)


class State(Protocol):
    """What the control endpoints see and change of the running mock."""

    config: MockConfig
    requests: collections.deque[dict[str, Any]]


_Endpoint = Callable[[State, bytes, ErrorShape, Send], Awaitable[None]]


async def _recorded(state: State, body: bytes, errors: ErrorShape, send: Send) -> None:
    await json_response(send, 200, json.dumps(list(state.requests)).encode())


async def _forget(state: State, body: bytes, errors: ErrorShape, send: Send) -> None:
    state.requests.clear()
    await json_response(send, 200, b'{"cleared":true}')


async def _show(state: State, body: bytes, errors: ErrorShape, send: Send) -> None:
    await json_response(send, 200, json.dumps(settings.view(state.config)).encode())


async def _configure(state: State, body: bytes, errors: ErrorShape, send: Send) -> None:
    try:
        update = json.loads(body or b"{}")
        if not isinstance(update, dict):
            raise TypeError("not an object")
        settings.configure(state.config, update)
    except (ValueError, TypeError) as exc:
        await error_response(send, errors, 400, f"Invalid config: {exc}")
        return
    await _show(state, body, errors, send)


_ENDPOINTS: dict[tuple[str, str], _Endpoint] = {
    ("GET", "/_mock/requests"): _recorded,
    ("DELETE", "/_mock/requests"): _forget,
    ("GET", "/_mock/config"): _show,
    ("POST", "/_mock/config"): _configure,
}


async def serve(
    state: State, path: str, method: str, receive: Receive, send: Send, errors: ErrorShape
) -> None:
    """Answer a `/_mock/...` request; its errors have the `errors` shape."""
    body = await read_body(receive)
    endpoint = _ENDPOINTS.get((method, path))
    if endpoint is None:
        await error_response(send, errors, 404, f"Unknown control path {method} {path}")
        return
    await endpoint(state, body, errors, send)
