"""Server-sent event streams, paced (`chunkDelayMs`) and optionally broken off
(`breakAfterChunks`)."""

import asyncio
import json
from typing import Any

from aigw.devtools.mock_provider.asgi import Headers, Message, Send
from aigw.devtools.mock_provider.control import Pacing
from aigw.devtools.mock_provider.faults import StreamBroken

SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
]


def data_event(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def named_event(kind: str, payload: Any) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + json.dumps(payload).encode() + b"\n\n"


async def stream(send: Send, headers: Headers, events: list[bytes], pacing: Pacing) -> None:
    """Send `events` as one streamed body; stop early when the client leaves during a delay."""
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    delay = pacing.delay_ms / 1000
    last = len(events) - 1
    if pacing.break_after > 0:
        events = events[: pacing.break_after]
        last = -1
    # the request body was read: the next message is `http.disconnect` (uvicorn sends it when
    # the client leaves or the response completes), so waiting on it doubles as the delay
    left: asyncio.Future[Message] | None = None
    try:
        for i, data in enumerate(events):
            if delay > 0:
                if left is None:
                    left = asyncio.ensure_future(pacing.receive())
                done, _ = await asyncio.wait((left,), timeout=delay)
                if done:
                    return  # the client left: no one to stream to
            await send({"type": "http.response.body", "body": data, "more_body": i != last})
    finally:
        if left is not None:
            left.cancel()
    if last < 0:
        raise StreamBroken(f"connection dropped after {len(events)} events (breakAfterChunks)")
