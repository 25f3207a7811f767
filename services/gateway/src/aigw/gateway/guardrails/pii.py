"""PII_MASKING_REGEX: never blocks. On a request each match of an entity's regex becomes a
placeholder (`EMAIL_0001`; the same value keeps its placeholder within a call) and the
answer gets the originals back, JSON or stream; with `redact` the request's matches become
`*****` for good. On a response-only flow the answer's matches are redacted.

Restoring a stream holds back at most one placeholder's length (a placeholder split across
two events is restored whole); redacting one holds back what may still become a match (partial
matching, at most the stream hold-back). What is held goes out before the next event without
text.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from aigw.common.guardrails import PiiMaskingParams
from aigw.gateway.errors import Refused
from aigw.gateway.guardrails.checks import timed_out
from aigw.gateway.guardrails.intervene import Direction, intervention
from aigw.gateway.guardrails.stream import delta_text, with_text
from aigw.gateway.guardrails.text import Selectors
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import PolicyRun, ResponseHead
from aigw.gateway.policies.sse import SseEvent

REDACTED = "*****"


@dataclass(slots=True)  # not frozen: `Policy.name` is a plain attribute
class PiiPolicy:
    name: str
    entities: tuple[tuple[str, regex.Pattern[str]], ...]
    selectors: Selectors
    redact: bool
    on_requests: bool
    timeout_ms: int
    holdback: int  # most characters held on a stream that is redacted (a match may go on)

    @classmethod
    def compile(
        cls,
        name: str,
        params: PiiMaskingParams,
        selectors: Selectors,
        flow: str,
        limits: tuple[int, int],  # the regex time bound (ms), the stream hold-back
    ) -> "PiiPolicy":
        entities = tuple((e.pii_entity, regex.compile(e.pii_regex)) for e in params.pii_entities)
        on_requests = flow != "response"
        return cls(name, entities, selectors, params.redact, on_requests, *limits)

    def open_tail(self, call: Invocation, text: str) -> int:
        """Where the earliest match that may still go on past `text`'s end starts (partial
        matching), held back at most `holdback` characters; len(text) if none."""
        start = len(text)
        try:
            for _, pattern in self.entities:
                for match in pattern.finditer(text, partial=True, timeout=self.timeout_ms / 1000):
                    if match.end() == len(text):
                        start = min(start, match.start())
        except TimeoutError:
            raise self._timed_out(call) from None
        return max(start, len(text) - self.holdback)

    def start(self, call: Invocation) -> PolicyRun | None:
        return _PiiRun(self, call)

    def mask(self, call: Invocation, text: str, masks: dict[str, str]) -> str:
        """`text` with its matches replaced; `masks` maps originals to placeholders."""
        for entity, pattern in self.entities:

            def placeholder(match: regex.Match[str], entity: str = entity) -> str:
                if self.redact:
                    return REDACTED
                found = match.group(0)
                if found not in masks:
                    masks[found] = f"{entity}_{len(masks) + 1:04d}"
                return masks[found]

            try:
                text = pattern.sub(placeholder, text, timeout=self.timeout_ms / 1000)
            except TimeoutError:
                raise self._timed_out(call) from None
        return text

    def _timed_out(self, call: Invocation) -> Refused:
        direction: Direction = "REQUEST" if self.on_requests else "RESPONSE"
        return intervention(call, self.name, direction, timed_out(self.timeout_ms), False)


class _PiiRun(PolicyRun):
    __slots__ = ("call", "held", "masks", "originals", "pattern", "policy", "template")
    holds_body = True
    rewrites_stream = True

    def __init__(self, policy: PiiPolicy, call: Invocation) -> None:
        self.policy, self.call = policy, call
        self.originals: dict[str, str] = {}  # placeholder -> original
        self.masks: dict[str, str] = {}  # an answer's matches (response flow) -> placeholders
        self.pattern: regex.Pattern[str] | None = None  # any placeholder
        self.held = ""
        self.template: SseEvent | None = None

    async def on_request(self, call: Invocation) -> None:
        if not self.policy.on_requests or call.parsed is None:
            return
        masks: dict[str, str] = {}
        masked = self.policy.selectors.request.replace(
            call.parsed, lambda text: self.policy.mask(call, text, masks)
        )
        if masked != call.parsed:
            call.replace_json(masked)
        self.originals = {placeholder: found for found, placeholder in masks.items()}
        if self.originals:
            keys = sorted(self.originals, key=len, reverse=True)
            self.pattern = regex.compile("|".join(regex.escape(key) for key in keys))

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        restores = self.pattern is not None
        redacts = not self.policy.on_requests
        return (restores or redacts) and 200 <= head.status < 300

    def rewrite(self, text: str) -> str:
        if self.pattern is not None:
            return self.pattern.sub(lambda match: self.originals[match.group(0)], text)
        return self.policy.mask(self.call, text, self.masks)

    async def on_body(self, body: bytes) -> bytes:
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):
            return body
        rewritten = self.policy.selectors.answer.replace(answer, self.rewrite)
        return json.dumps(rewritten).encode() if rewritten != answer else body

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        selector = self.policy.selectors.stream
        text = delta_text(selector, event)
        if text is None:
            return [*self._flush(), event] if self.held else None
        self.template = event
        text, self.held = self._split(self.held + text)
        return [with_text(selector, event, self.rewrite(text))]

    def _split(self, text: str) -> tuple[str, str]:
        """What can go out, and a tail that may be the start of a placeholder (restoring) or
        of a match (redacting an answer)."""
        if self.pattern is None:
            start = self.policy.open_tail(self.call, text)
            return text[:start], text[start:]
        longest = max(map(len, self.originals))
        for start in range(max(0, len(text) - longest + 1), len(text)):
            tail = text[start:]
            if any(key.startswith(tail) for key in self.originals):
                return text[:start], tail
        return text, ""

    def _flush(self) -> list[SseEvent]:
        held, self.held = self.held, ""
        assert self.template is not None
        return [with_text(self.policy.selectors.stream, self.template, self.rewrite(held))]

    async def on_end(self) -> Sequence[SseEvent]:
        return self._flush() if self.held else ()
