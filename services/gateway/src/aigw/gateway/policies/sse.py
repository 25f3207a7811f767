"""Server-sent events as response policies see them: a relayed stream cut into events."""

import contextlib
import json
from typing import Any

_ENDS = (b"\n\n", b"\r\n\r\n")
_UNPARSED: Any = object()


def _event_end(buffer: bytes | bytearray, start: int) -> int:
    """The index just past the first complete event at or after `start`, or -1."""
    best = -1
    for end in _ENDS:
        at = buffer.find(end, start)
        if at >= 0 and (best < 0 or at + len(end) < best):
            best = at + len(end)
    return best


class SseEvent:
    """One event as the provider sent it (`raw`, with its blank line), and its data's JSON."""

    __slots__ = ("_json", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._json: Any = _UNPARSED

    def json(self) -> Any:
        """The first `data:` line as JSON (parsed once); None for `[DONE]`, no data, or not
        JSON (nested past Python's limit included)."""
        if self._json is _UNPARSED:
            self._json = None
            for line in self.raw.splitlines():
                if line.startswith(b"data:"):
                    data = line[5:].strip()
                    if data and data != b"[DONE]":
                        with contextlib.suppress(ValueError, RecursionError):
                            self._json = json.loads(data)
                    break
        return self._json


class EventReader:
    """Cuts a stream's chunks into complete events, holding only an unfinished tail."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> list[SseEvent]:
        pending = self._pending
        pending += chunk
        start = 0
        events = []
        while (end := _event_end(pending, start)) >= 0:
            events.append(SseEvent(bytes(pending[start:end])))
            start = end
        del pending[:start]
        return events

    def tail(self) -> SseEvent | None:
        """What is left when the stream ends (a last event without its blank line)."""
        rest = bytes(self._pending)
        self._pending.clear()
        return SseEvent(rest) if rest else None
