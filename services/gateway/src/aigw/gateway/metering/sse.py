"""A tap on a relayed server-sent-event stream: finds the served model, the time of the first
content token, the provider's usage and (in case the stream ends early) how much content was
relayed, without holding the stream back.

When the gateway itself asked for usage (`strip_usage_chunk`), the extra usage-only event
(`"choices": []` with `usage`) is removed from what the caller receives. Only then are bytes
held, and only the unfinished tail of an event, until its end arrives.
"""

import json
import time
from typing import Any

from aigw.gateway.metering.usage import Usage

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
    __slots__ = ("_pending", "content_chars", "first_token_at", "strip_usage_chunk", "usage")

    def __init__(self, strip_usage_chunk: bool) -> None:
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
        except ValueError:
            return True
        if not isinstance(chunk, dict):
            return True
        if self.usage.served_model is None and isinstance(chunk.get("model"), str):
            self.usage.served_model = chunk["model"]
        choices = chunk.get("choices")
        if isinstance(choices, list):
            self._content(choices)
        if chunk.get("usage") is not None:
            self.usage.take(chunk["usage"])
            return bool(choices)
        return True

    def _content(self, choices: list[Any]) -> None:
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(text, str) and text:
                self.content_chars += len(text)
                if self.first_token_at is None:
                    self.first_token_at = time.perf_counter()
