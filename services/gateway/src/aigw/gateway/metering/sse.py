"""A tap on a relayed server-sent-event stream: applies the vendor's stream metering (served
model, token counts) to each event's JSON data, and notes the time of the first generated text
and (in case the stream ends early) how much text was relayed, without holding the stream back.

When the gateway itself asked an OpenAI-style provider for usage (`strip_usage_chunk`), the
extra usage-only event (`"choices": []` with `usage`) is removed from what the caller receives.
Only then are bytes held, and only the unfinished tail of an event, until its end arrives.
"""

import json
import time
from typing import Any

from aigw.gateway.metering.meter import Meter, Usage

_ENDS = (b"\n\n", b"\r\n\r\n")


def _event_end(buffer: bytes | bytearray, start: int) -> int:
    """The index just past the first complete event at or after `start`, or -1."""
    best = -1
    for end in _ENDS:
        at = buffer.find(end, start)
        if at >= 0 and (best < 0 or at + len(end) < best):
            best = at + len(end)
    return best


class StreamTap:
    __slots__ = (
        "_meter",
        "_pending",
        "content_chars",
        "first_token_at",
        "strip_usage_chunk",
        "usage",
    )

    def __init__(self, meter: Meter, strip_usage_chunk: bool) -> None:
        self._meter = meter
        self.strip_usage_chunk = strip_usage_chunk
        self.usage = Usage()
        self.first_token_at: float | None = None
        self.content_chars = 0
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> bytes:
        """The bytes to relay for `chunk` (all of it unless the usage chunk is stripped)."""
        self._pending += chunk
        start = 0
        kept: list[bytes] = []
        while (end := _event_end(self._pending, start)) >= 0:
            event = bytes(self._pending[start:end])
            if self._inspect(event) or not self.strip_usage_chunk:
                kept.append(event)
            start = end
        del self._pending[:start]
        if not self.strip_usage_chunk:
            return chunk
        return b"".join(kept)

    def rest(self) -> bytes:
        """What is still held when the stream ends (an event without its blank line)."""
        rest = bytes(self._pending)
        self._pending.clear()
        if rest:
            self._inspect(rest)  # a last event without its blank line still counts
        if rest and not self.strip_usage_chunk:
            return b""  # already relayed
        return rest

    def _inspect(self, event: bytes) -> bool:
        """Note what the event tells; False if it is the usage-only chunk."""
        for line in event.splitlines():
            if line.startswith(b"data:"):
                data = line[5:].strip()
                if data and data != b"[DONE]":
                    return self._chunk(data)
        return True

    def _chunk(self, data: bytes) -> bool:
        try:
            chunk: Any = json.loads(data)
        except (ValueError, RecursionError):  # not JSON, or nested past Python's limit
            return True
        if not isinstance(chunk, dict):
            return True
        self._meter.event(chunk, self.usage)
        chars = self._meter.content(chunk)
        if chars:
            self.content_chars += chars
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
        # The usage-only chunk an OpenAI-style provider sends when asked for it.
        return chunk.get("usage") is None or bool(chunk.get("choices"))
