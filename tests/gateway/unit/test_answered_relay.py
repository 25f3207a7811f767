"""A request policy's own answer (`Answered`, a cache hit) passes back through the runs
before it, as a provider's would (JSON through on_body, an event stream through on_event and
on_end), and not through the runs after it: driven with `run_requests` and `relay_answered`,
the Invoker's own two steps, and policies of the test's own."""

from collections.abc import Sequence

import pytest

from aigw.gateway.asgi import Message
from aigw.gateway.errors import Refused
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import Answered, PolicyRun, ResponseHead, run_requests
from aigw.gateway.policies.sse import SseEvent
from aigw.gateway.proxy.relay import relay_answered

JSON = [(b"content-type", b"application/json")]
SSE = [(b"content-type", b"text/event-stream")]


class Restorer(PolicyRun):
    """Like a PII masker: puts `secret` back where the answer says `PH_1`; refuses `forbidden`."""

    holds_body = True

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        self.seen.append(f"{head.status} {head.content_type}")
        return True

    async def on_body(self, body: bytes) -> bytes:
        if b"forbidden" in body:
            raise Refused(446, "The answer did not pass the guardrail.", "guardrail_intervened")
        return body.replace(b"PH_1", b"secret")

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        if b"forbidden" in event.raw:
            raise Refused(446, "The answer did not pass the guardrail.", "guardrail_intervened")
        return [SseEvent(event.raw.replace(b"PH_1", b"secret"))]

    async def on_end(self) -> Sequence[SseEvent]:
        self.seen.append("end")
        return [SseEvent(b"data: held back\n\n")]


class Answerer(PolicyRun):
    def __init__(self, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.headers, self.body = headers, body

    async def on_request(self, call: Invocation) -> None:
        raise Answered(200, self.headers, self.body)


class After(PolicyRun):
    """A run after the answering one (metering, say): it sees nothing of the answer."""

    def __init__(self) -> None:
        self.asked = False

    async def on_request(self, call: Invocation) -> None:
        self.asked = True

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        self.asked = True
        return True


async def answer_through(
    headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[list[Message], Restorer, After]:
    call = Invocation(0.0, "POST", "")
    call.answer_headers = [(b"x-aigw-cache", b"hit")]
    before, after = Restorer(), After()
    runs = [before, Answerer(headers, body), after]
    with pytest.raises(Answered) as raised:
        await run_requests(runs, call)
    assert list(raised.value.before) == [before]
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    status = await relay_answered(call, raised.value, send)
    assert status == sent[0]["status"]
    return sent, before, after


async def test_a_json_answer_passes_back_through_the_runs_before_the_answering_one():
    sent, before, after = await answer_through(JSON, b'{"text": "mail PH_1"}')
    start, body = sent
    assert body["body"] == b'{"text": "mail secret"}'
    headers = dict(start["headers"])
    assert headers[b"content-length"] == str(len(body["body"])).encode()  # the changed length
    assert headers[b"x-aigw-cache"] == b"hit"
    assert before.seen == ["200 application/json"]
    assert not after.asked


async def test_an_event_stream_answer_passes_event_by_event_and_its_end():
    stream = b"data: one PH_1\n\ndata: two\n\ndata: [DONE]\n\n"
    sent, before, _ = await answer_through(SSE, stream)
    assert sent[1]["body"] == (
        b"data: one secret\n\ndata: two\n\ndata: [DONE]\n\ndata: held back\n\n"
    )
    assert before.seen == ["200 text/event-stream", "end"]


@pytest.mark.parametrize(
    ("headers", "body"),
    [(JSON, b'{"text": "forbidden"}'), (SSE, b"data: ok\n\ndata: forbidden\n\n")],
)
async def test_a_run_before_may_refuse_the_answer(headers, body):
    sent, _, _ = await answer_through(headers, body)
    assert sent[0]["status"] == 446
    assert b"forbidden" not in b"".join(m.get("body", b"") for m in sent)
    assert b"guardrail_intervened" in sent[1]["body"]


async def test_an_answer_from_the_first_run_goes_out_as_it_is():
    call = Invocation(0.0, "POST", "")
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(Answered) as raised:
        await run_requests([Answerer(JSON, b"{}")], call)
    assert await relay_answered(call, raised.value, send) == 200
    assert sent[1]["body"] == b"{}"
    assert dict(sent[0]["headers"])[b"content-length"] == b"2"
