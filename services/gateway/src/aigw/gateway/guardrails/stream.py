"""Response checks on event streams. None is skipped; each works on the stream's delta text:

- `DenyScanner` (a regex that must not match): incremental. Each delta is searched together
  with the text still held and the last `holdback` characters already let out, with the
  `regex` module's partial matching: text that could still become the start of a match is
  held back (at most `holdback` characters), the rest goes out at once. A complete match stops
  the stream before any of it is let out. Held text goes out before the next event that
  carries no text (a block's or the answer's end), after a final check.
- `RequireScanner` (a regex that must match): holds the stream until a match appears, then
  lets it all out; a stream that ends without one is refused.
- `Buffered` (counts, length, JSON schema, URLs): the whole answer is held and checked at its
  end (these need all of it).
"""

from collections.abc import Callable, Sequence
from typing import Protocol

from aigw.gateway.errors import Refused
from aigw.gateway.guardrails.checks import Check, RegexCheck, Verdict, timed_out
from aigw.gateway.guardrails.text import Selector, first_only
from aigw.gateway.policies.sse import SseEvent

MAX_HELD_BYTES = 4 * 1_048_576  # as a held JSON answer (proxy.relay)
Refuse = Callable[[Verdict], Refused]
_TOO_LARGE = "The answer is too large for this API's guardrails."


class StreamWatcher(Protocol):
    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None: ...
    async def on_end(self) -> Sequence[SseEvent]: ...


def delta_text(selector: Selector, event: SseEvent) -> str | None:
    data = event.json()
    return None if data is None else selector.text(data)


def with_text(selector: Selector, event: SseEvent, text: str) -> SseEvent:
    return event.with_json(selector.replace(event.json(), first_only(text)))


class _Holding:
    """Events held back, bounded."""

    def __init__(self) -> None:
        self.events: list[SseEvent] = []
        self.size = 0

    def hold(self, event: SseEvent) -> None:
        self.size += len(event.raw)
        if self.size > MAX_HELD_BYTES:
            raise Refused(502, _TOO_LARGE, "upstream_answer_too_large")
        self.events.append(event)

    def release(self) -> list[SseEvent]:
        events, self.events = self.events, []
        return events


class Buffered:
    def __init__(self, check: Check, selector: Selector, refuse: Refuse) -> None:
        self.check, self.selector, self.refuse = check, selector, refuse
        self.held = _Holding()
        self.parts: list[str] = []

    def on_event(self, event: SseEvent) -> Sequence[SseEvent]:
        self.held.hold(event)
        text = delta_text(self.selector, event)
        if text is not None:
            self.parts.append(text)
        return ()

    async def on_end(self) -> Sequence[SseEvent]:
        if self.parts:
            verdict = await self.check.judge("".join(self.parts))
            if verdict is not None:
                raise self.refuse(verdict)
        return self.held.release()


class RequireScanner:
    def __init__(self, check: RegexCheck, selector: Selector, holdback: int, refuse: Refuse):
        self.check, self.selector, self.holdback, self.refuse = check, selector, holdback, refuse
        self.held = _Holding()
        self.text = ""
        self.found = False

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        if self.found:
            return None
        self.held.hold(event)
        text = delta_text(self.selector, event)
        if text:
            window = self.text[-self.holdback :] + text  # a match ending in this delta
            self.text += text
            self.found = self._found(window)
            if self.found:
                return self.held.release()
        return ()

    def _found(self, text: str) -> bool:
        found = self.check.found(text)
        if found is None:
            raise self.refuse(timed_out(self.check.timeout_ms))
        return found

    async def on_end(self) -> Sequence[SseEvent]:
        if not self.found and self.text and not self._found(self.text):
            verdict = self.check.verdict(False)
            assert verdict is not None
            raise self.refuse(verdict)
        return self.held.release()


class DenyScanner:
    def __init__(self, check: RegexCheck, selector: Selector, holdback: int, refuse: Refuse):
        self.check, self.selector, self.holdback, self.refuse = check, selector, holdback, refuse
        self.pending = ""  # held back: it may start a match
        self.context = ""  # the last `holdback` characters let out
        self.template: SseEvent | None = None  # the last text event (held text goes out in one)

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        text = delta_text(self.selector, event)
        if text is None:
            return [*self._flush(), event] if self.pending else None
        self.template = event
        held = self.pending
        self.pending += text
        released = self._releasable()
        out, self.pending = self.pending[:released], self.pending[released:]
        self._let_out(out)
        if not held and out == text:
            return None  # the common case: the event goes out unchanged
        return [with_text(self.selector, event, out)]

    def _releasable(self) -> int:
        window = self.context + self.pending
        try:
            match = self.check.pattern.search(window, partial=True, timeout=self.check.timeout)
        except TimeoutError:
            raise self.refuse(timed_out(self.check.timeout_ms)) from None
        if match is None:
            return len(self.pending)
        if not match.partial:
            raise self._matched()
        start = max(0, match.start() - len(self.context))
        return max(start, len(self.pending) - self.holdback)

    def _matched(self) -> Refused:
        verdict = self.check.verdict(True)
        assert verdict is not None
        return self.refuse(verdict)

    def _flush(self) -> list[SseEvent]:
        found = self.check.found(self.context + self.pending)  # no more text follows here
        if found is None:
            raise self.refuse(timed_out(self.check.timeout_ms))
        if found:
            raise self._matched()
        out, self.pending = self.pending, ""
        self._let_out(out)
        assert self.template is not None
        return [with_text(self.selector, self.template, out)]

    def _let_out(self, text: str) -> None:
        if text:
            self.context = (self.context + text)[-self.holdback :]

    async def on_end(self) -> Sequence[SseEvent]:
        return self._flush() if self.pending else ()
