"""Sending the provider's answer to the caller, through the response policies' runs.

The provider's status, headers and body come back unchanged unless a run changes them, with
one exception: a 401/403 to a call that carried the provider key becomes the caller's 502
`provider_rejected_credentials` (the organisation's key is at fault, not the caller's, and
the body may describe it). An answer of known length was read whole already; one without a
length is relayed chunk by chunk as it arrives (read whole first only if a run holds bodies),
and every `text/event-stream` event by event through the runs that rewrite streams, or byte
for byte when none does. A provider that fails mid-answer leaves the response unfinished, so
the caller sees a truncated body.

A request policy's own answer (`Answered`, a cache hit) is relayed by `relay_answered` through
the runs before that policy only, whole (it is all there): a JSON body through `on_body`, an
event stream event by event through `on_event` and `on_end`; a run that refuses it replaces
it with the refusal.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aigw.gateway.asgi import RawHeaders, Send
from aigw.gateway.client import Response, UpstreamError
from aigw.gateway.errors import Refused, send_error, send_refusal
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies import chain
from aigw.gateway.policies.base import Answered, PolicyRun
from aigw.gateway.policies.sse import EventReader, SseEvent
from aigw.gateway.proxy.attempt import ProviderAnswer
from aigw.gateway.proxy.disconnect import DisconnectWatch
from aigw.gateway.proxy.response_headers import response_headers, served_by, with_length

log = logging.getLogger(__name__)

KEEP_JSON_BYTES = 4 * 1_048_576  # a chunked JSON answer past this is neither metered nor held
_CREDENTIALS_REJECTED = frozenset({401, 403})
_REJECTED_MESSAGE = (
    "The AI provider rejected this API's provider credentials (the key the gateway sends "
    "for the API), not your API key. The API's publisher must set a valid provider key."
)
_TOO_LARGE = "The AI provider's answer is too large for this API's response policies."


async def relay(
    call: Invocation,
    answer: ProviderAnswer,
    runs: Sequence[PolicyRun],
    watch: DisconnectWatch,
    send: Send,
) -> int:
    resp = answer.resp
    status = call.provider_status = resp.status
    served = served_by(call.target, call) if call.target is not None else []
    if status in _CREDENTIALS_REJECTED and answer.request.sends_key:
        watch.stop()
        code = "provider_rejected_credentials"
        await send_error(send, 502, _REJECTED_MESSAGE, code, [*call.answer_headers, *served])
        return 502
    head = response_headers(resp, call.answer_headers, answer.request.query_secret)
    head += served
    relay = _Relay(call, answer, watch, send, head)
    try:
        relay.runs = [run for run in reversed(runs) if run.on_response(call, resp)]
        if answer.data is not None:
            return await relay.whole(answer.data)
        if resp.content_type == "text/event-stream":
            return await relay.events()
        if resp.content_type.endswith("json") and any(run.holds_body for run in relay.runs):
            return await relay.held()
        return await relay.chunks()
    except Refused as refused:  # a run stopped the answer
        return await relay.refuse(refused)


class _Relay:
    def __init__(
        self,
        call: Invocation,
        answer: ProviderAnswer,
        watch: DisconnectWatch,
        send: Send,
        head: RawHeaders,
    ) -> None:
        self.call, self.answer, self.watch, self.send, self.head = call, answer, watch, send, head
        self.runs: list[PolicyRun] = []
        self.status = answer.resp.status

    async def start(self) -> None:
        self.answer.head_sent = True
        await self.send(
            {"type": "http.response.start", "status": self.status, "headers": self.head}
        )

    def ended(self) -> None:
        self.call.provider_ended = time.perf_counter()
        self.watch.stop()  # completing the response makes receive() report a disconnect

    async def whole(self, data: bytes) -> int:
        self.ended()
        out = await chain.body_through(self.runs, data)
        if out is not data:
            self.head = with_length(self.head, len(out))
        await self.start()
        await self.send({"type": "http.response.body", "body": out})
        return self.status

    async def held(self) -> int:
        """A JSON body without a length that a run must see whole before the caller does."""
        parts, size = [], 0
        try:
            async for chunk in self.answer.resp.iter_any():
                size += len(chunk)
                if size > KEEP_JSON_BYTES:
                    raise Refused(502, _TOO_LARGE, "upstream_answer_too_large")
                parts.append(chunk)
        except (UpstreamError, TimeoutError) as exc:
            log.debug("provider answer broke: %r", exc)
            raise Refused(502, "The AI provider's answer broke off.", "upstream_error") from None
        return await self.whole(b"".join(parts))

    async def chunks(self) -> int:
        """Chunks as they arrive; a JSON answer is also kept (up to a bound) for the runs."""
        resp: Response = self.answer.resp
        kept: list[bytes] | None = [] if resp.content_type.endswith("json") else None
        size = 0
        send = self.send
        await self.start()
        try:
            async for chunk in resp.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if kept is not None and (size := size + len(chunk)) <= KEEP_JSON_BYTES:
                    kept.append(chunk)
        except (UpstreamError, TimeoutError) as exc:
            log.debug("provider stream broke: %r", exc)
            return self.status
        self.ended()
        if kept and size <= KEEP_JSON_BYTES:
            try:
                await chain.body_through(self.runs, b"".join(kept))  # observers: it is sent
            except Refused as refused:
                log.warning("a policy refused an answer already relayed: %s", refused.code)
        await send({"type": "http.response.body", "body": b""})
        return self.status

    async def events(self) -> int:
        """An event stream, through the runs (see the module's docstring)."""
        runs = self.runs
        rewriting = any(run.rewrites_stream or run.holds_body for run in runs)
        if not rewriting:
            await self.start()  # nothing can change the answer: the head goes at once
        reader = EventReader()
        resp: Response = self.answer.resp
        send = self.send
        chunks = resp.iter_any()
        first = self.answer.first
        try:
            while chunk := first or await anext(chunks, b""):
                first = b""
                events = reader.feed(chunk)
                if rewriting:
                    chunk = _joined(chain.through(runs, events))
                elif events:
                    chain.observe(runs, events)
                if chunk:
                    if not self.answer.head_sent:
                        await self.start()
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (UpstreamError, TimeoutError) as exc:
            log.debug("provider stream broke: %r", exc)
            if not self.answer.head_sent:
                await self.start()
            return self.status
        self.ended()
        return await self._end(reader, rewriting)

    async def _end(self, reader: EventReader, rewriting: bool) -> int:
        tail = reader.tail()
        events = [tail] if tail is not None else []
        out = b""
        if rewriting:
            out = _joined([*chain.through(self.runs, events), *await chain.end(self.runs)])
        else:
            chain.observe(self.runs, events)
            await chain.end_observed(self.runs)
        if not self.answer.head_sent:
            await self.start()
        await self.send({"type": "http.response.body", "body": out})
        return self.status

    async def refuse(self, refused: Refused) -> int:
        """A run refused the answer: its own status if the caller has nothing yet, else an
        SSE `error` event that ends the stream."""
        self.ended()
        if not self.answer.head_sent:
            extra = [*refused.headers, *self.call.answer_headers]
            await send_refusal(self.send, refused, extra)
            return refused.status
        event = b"event: error\ndata: " + refused.body()
        await self.send({"type": "http.response.body", "body": event + b"\n\n"})
        return self.status


@dataclass(frozen=True, slots=True)
class _LocalHead:
    """A policy's own answer's head, as the runs before it read a provider's."""

    status: int
    headers: Mapping[str, str]
    content_type: str

    @classmethod
    def of(cls, answered: Answered) -> "_LocalHead":
        headers = {n.decode("latin-1").lower(): v.decode("latin-1") for n, v in answered.headers}
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        return cls(answered.status, headers, media)


async def relay_answered(call: Invocation, answered: Answered, send: Send) -> int:
    """A request policy's own answer, through the runs before it (see the module's docstring)."""
    head = _LocalHead.of(answered)
    runs = [run for run in reversed(answered.before) if run.on_response(call, head)]
    body = answered.body
    try:
        if runs and head.content_type == "text/event-stream":
            reader = EventReader()
            events = reader.feed(body)
            tail = reader.tail()
            events = [*events, tail] if tail is not None else events
            body = _joined([*chain.through(runs, events), *await chain.end(runs)])
        elif runs:
            body = await chain.body_through(runs, body)
    except Refused as refused:
        await send_refusal(send, refused, [*refused.headers, *call.answer_headers])
        return refused.status
    own = [(name, value) for name, value in answered.headers if name.lower() != b"content-length"]
    headers = [*own, (b"content-length", str(len(body)).encode()), *call.answer_headers]
    await send({"type": "http.response.start", "status": answered.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return answered.status


def _joined(events: Sequence[SseEvent]) -> bytes:
    return b"".join([event.raw for event in events])
