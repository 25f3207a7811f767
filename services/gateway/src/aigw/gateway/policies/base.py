"""The extension point of the invocation path: request and response policies.

A `Policy` is built once and `start`s a `PolicyRun` for each call it applies to; the run holds
that call's state (a PII mask's placeholders, a cache key) from the request to the end of the
answer. Today the gateway's built-in policies apply to every call (`proxy.invoker`); policies
configured per API travel in the deployed revision and are compiled per revision, beside them
(metering always last). The pipeline calls, in this order:

1. `on_request(call)`, run by run in the policies' order, once the call is authorised and
   admitted and before a target is chosen (the client's disconnect abandons it). A run may
   inspect and change the request (`call.replace_json` keeps the body and its parsed form in
   step; `call.headers`), stop the call with its own status by raising `Refused` (a
   guardrail's refusal), or answer it without the provider by raising `Answered` (a cache hit).
   That answer goes back through the runs before the one that raised it, as a provider's
   answer would (steps 2 and 3: a JSON answer through `on_body`, an event stream through
   `on_event` and `on_end`; a run may change or refuse it), as Envoy's local replies pass
   back through the encoder filters: a PII masker before a cache restores its placeholders in
   a cached answer, a response guardrail checks it. The runs after it see nothing of it.
2. `on_response(call, head)` once the provider's status and headers arrived, in the reverse
   order (the policy nearest the provider sees its answer first, as in Envoy's filter chain);
   True means the run wants this answer (it may refuse it here, by status or header; this
   hook is synchronous, `on_body` may await), and it says how:
   - `holds_body`: a JSON answer is read whole (up to 4 MiB) and passes through `on_body`
     before the caller gets any of it (a run may change it, or refuse it with `Refused`);
     otherwise `on_body` only observes a JSON answer once it was relayed, and must not refuse;
   - `rewrites_stream` (or `holds_body`) on an event stream: it passes through `on_event`,
     event by event, before the caller gets it: a run may change (`SseEvent.with_json`), drop,
     split or hold back events (what it holds it returns from `on_end`; a PII restorer holds
     at most one placeholder's length), or stop the stream by raising `Refused` (before the
     first byte the caller gets that status; later, an SSE `error` event ends the stream).
     Otherwise `on_event` only observes, and the stream is relayed byte for byte as it comes.
     `on_event` is synchronous (it runs per event on the hot path): a check that needs I/O
     holds events back and decides in `on_end`, or works on whole answers.
3. `on_end()` when a stream ended complete (not when it broke), for every run that took it;
   it may await (a held-back answer's check that needs I/O, e.g. a URL lookup) and refuse
   (before the first byte: the run's status, as from `on_event`).
4. `on_finish(call)` once for every started run, however the call ended (answered, refused,
   failed, the client gone): release what the run holds (a cache's in-flight lock).
Runs see the API's own wire format: translating to another vendor's format belongs to the
attempt of a target on that vendor (one translator per format pair, as Envoy AI Gateway does),
beneath every policy.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol

from aigw.gateway.asgi import RawHeaders
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.sse import SseEvent


class ResponseHead(Protocol):
    """What a policy may read of the provider's answer before its body."""

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...  # by lower-case name
    @property
    def content_type(self) -> str: ...  # the media type, lower-case, without parameters


class Answered(Exception):
    """Raised by a request policy to answer the call itself (the provider is not called).
    `headers` name its content type (`text/event-stream` for a stream); `before` is set by
    `run_requests`: the runs the answer passes back through."""

    def __init__(self, status: int, headers: RawHeaders, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.body = body
        self.before: Sequence[PolicyRun] = ()


class PolicyRun:
    """One policy's part in one call; by default it changes nothing."""

    __slots__ = ()
    holds_body = False
    rewrites_stream = False

    async def on_request(self, call: Invocation) -> None:
        return None

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        return False

    async def on_body(self, body: bytes) -> bytes:
        return body

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        """The events to let out for `event`; None: `event` itself, unchanged."""
        return None

    async def on_end(self) -> Sequence[SseEvent]:
        return ()

    def on_finish(self, call: Invocation) -> None:
        return None


class Policy(Protocol):
    name: str

    def start(self, call: Invocation) -> PolicyRun | None:
        """This call's run, or None when the policy has nothing to do for it."""


def start_runs(policies: Sequence[Policy], call: Invocation) -> list[PolicyRun]:
    return [run for policy in policies if (run := policy.start(call)) is not None]


async def run_requests(runs: Sequence[PolicyRun], call: Invocation) -> None:
    """Each run's `on_request`, in order (skipping runs that keep the default: an await
    costs more on the hot path than the check)."""
    for index, run in enumerate(runs):
        if type(run).on_request is not PolicyRun.on_request:
            try:
                await run.on_request(call)
            except Answered as answered:
                answered.before = runs[:index]
                raise
