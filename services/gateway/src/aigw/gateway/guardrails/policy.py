"""A check guardrail as a policy: it judges the request's text before the provider is called
(`flow` request or both) and the answer's (response or both): a JSON answer whole
(`holds_body`), a stream through one of `guardrails.stream`'s watchers. Only successful
answers are checked (an error passes as the provider sent it). A request or answer from which
the guardrail's path selects no text passes (there is nothing to judge: a tool call, an audio
upload)."""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aigw.gateway.errors import Refused
from aigw.gateway.guardrails.checks import Check, Verdict
from aigw.gateway.guardrails.intervene import Direction, intervention
from aigw.gateway.guardrails.stream import Refuse, StreamWatcher
from aigw.gateway.guardrails.text import Selectors
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import PolicyRun, ResponseHead
from aigw.gateway.policies.sse import SseEvent

WatcherFactory = Callable[[Refuse], StreamWatcher]


@dataclass(slots=True)  # not frozen: `Policy.name` is a plain attribute
class CheckPolicy:
    name: str
    check: Check
    selectors: Selectors
    on_requests: bool
    on_answers: bool
    show_assessment: bool
    watcher: WatcherFactory  # a stream's watcher for this call

    def start(self, call: Invocation) -> PolicyRun | None:
        return _CheckRun(self, call)

    def refusal(self, call: Invocation, direction: Direction) -> Refuse:
        def refuse(verdict: Verdict) -> Refused:
            return intervention(call, self.name, direction, verdict, self.show_assessment)

        return refuse


class _CheckRun(PolicyRun):
    __slots__ = ("call", "policy", "watcher")
    holds_body = True
    rewrites_stream = True

    def __init__(self, policy: CheckPolicy, call: Invocation) -> None:
        self.policy, self.call = policy, call
        self.watcher: StreamWatcher | None = None

    async def on_request(self, call: Invocation) -> None:
        policy = self.policy
        if policy.on_requests and call.parsed is not None:
            await self._judge(policy.selectors.request.text(call.parsed), "REQUEST")

    async def _judge(self, text: str | None, direction: Direction) -> None:
        if text is not None:
            verdict = await self.policy.check.judge(text)
            if verdict is not None:
                raise self.policy.refusal(self.call, direction)(verdict)

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        if not self.policy.on_answers or not 200 <= head.status < 300:
            return False
        if head.content_type == "text/event-stream":
            self.watcher = self.policy.watcher(self.policy.refusal(call, "RESPONSE"))
        return True

    async def on_body(self, body: bytes) -> bytes:
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):
            return body  # not JSON: no text to judge
        await self._judge(self.policy.selectors.answer.text(answer), "RESPONSE")
        return body

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        assert self.watcher is not None
        return self.watcher.on_event(event)

    async def on_end(self) -> Sequence[SseEvent]:
        assert self.watcher is not None
        return await self.watcher.on_end()
