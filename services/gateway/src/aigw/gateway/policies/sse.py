"""Server-sent events as response policies see them: a relayed stream cut into events."""

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
        """The first non-empty `data:` line other than `[DONE]` as JSON (parsed once); None
        if there is none or it is not JSON (nested past Python's limit included). Treat it
        as read-only: what is relayed is `raw` (`with_json` makes a changed event)."""
        value = self._json
        if value is _UNPARSED:
            value = self._json = None
            for line in self.raw.splitlines():
                if line.startswith(b"data:"):
                    data = line[5:].strip()
                    if data and data != b"[DONE]":
                        try:  # noqa: SIM105 (contextlib.suppress costs three calls per event)
                            value = self._json = json.loads(data)
                        except (ValueError, RecursionError):
                            pass
                        break
        return value

    def _data(self) -> bytes | None:
        for line in self.raw.splitlines():
            if line.startswith(b"data:"):
                data = line[5:].strip()
                if data and data != b"[DONE]":
                    return data
        return None

    def with_json(self, value: Any) -> "SseEvent":
        """This event with its data line (the one `json` reads) replaced by `value`; its
        `event:`, `id:` and other lines, and its line endings, stay as they were."""
        data = self._data()
        lines = self.raw.splitlines(keepends=True)
        for index, line in enumerate(lines):
            if line.startswith(b"data:") and line[5:].strip() == data:
                ending = line[len(line.rstrip(b"\r\n")) :]
                encoded = json.dumps(value, separators=(",", ":")).encode()
                lines[index] = b"data: " + encoded + ending
                break
        event = SseEvent(b"".join(lines))
        event._json = value
        return event


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
