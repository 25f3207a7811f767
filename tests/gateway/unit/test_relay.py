"""The response side of the pipeline, driven directly: the real relay and the built-in policies
(metering, the include_usage rewrite and its hidden chunk) over a provider answer given chunk by
chunk, and a policy of a test's own on the same interface (refusing before and during a stream,
changing a whole body)."""

import json
from collections.abc import Sequence

import pytest

from aigw.common.vendors import builtin_spec
from aigw.gateway.asgi import Message
from aigw.gateway.errors import Refused
from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.request import facts
from aigw.gateway.policies.base import Policy, PolicyRun, ResponseHead, start_runs
from aigw.gateway.policies.sse import SseEvent
from aigw.gateway.policies.stream_usage import with_include_usage
from aigw.gateway.proxy.body import parse_json
from aigw.gateway.proxy.route_policies import BUILT_IN_POLICIES
from aigw.gateway.routing.table import Route
from aigw.gateway.routing.upstream import Upstream
from aigw.gateway.routing.vendor import VendorProfile
from tests.support.relay import relay_chunks

USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}


def event(chunk: object, crlf: bool = False) -> bytes:
    end = b"\r\n\r\n" if crlf else b"\n\n"
    return b"data: " + json.dumps(chunk).encode() + end


def delta(text: str) -> dict:
    return {"model": "served-1", "choices": [{"index": 0, "delta": {"content": text}}]}


STREAM = [
    event(delta("")),
    event(delta("Hello")),
    event(delta(" world")),
    event({"model": "served-1", "choices": [], "usage": USAGE}),
    b"data: [DONE]\n\n",
]


def invocation(vendor: str, version: str, body: dict) -> Invocation:
    spec = builtin_spec(vendor, version)
    assert spec is not None
    profile = VendorProfile.compile(spec)
    call = Invocation(0.0, "POST", "")
    call.route = Route("api", 1, "n", "v", "n/v", profile, Upstream("http://p"), None)
    call.body = json.dumps(body).encode()
    call.parsed = parse_json(call.body, b"application/json")
    call.facts = facts(call.parsed, body.get("model"))
    return call


async def relayed(
    call: Invocation,
    chunks: Sequence[bytes],
    policies: Sequence[Policy] = BUILT_IN_POLICIES,
    content_type: str = "text/event-stream",
    status: int = 200,
    breaks: bool = False,
) -> tuple[int, list[Message]]:
    runs = start_runs(policies, call)
    for run in runs:
        await run.on_request(call)
    return await relay_chunks(call, runs, chunks, content_type, status, breaks)


def body_of(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def cut(raw: bytes, size: int) -> list[bytes]:
    return [raw[i : i + size] for i in range(0, len(raw), size)]


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
async def test_the_usage_chunk_the_gateway_asked_for_is_hidden_whatever_the_chunking(size):
    call = invocation("OpenAI", "v1", {"model": "m", "stream": True})
    raw = b"".join(STREAM)
    _, sent = await relayed(call, cut(raw, size))
    assert json.loads(call.body)["stream_options"] == {"include_usage": True}
    assert body_of(sent) == raw.replace(STREAM[3], b"")
    stream = call.stream
    assert stream is not None
    assert (stream.usage.prompt_tokens, stream.usage.total_tokens) == (5, 12)
    assert stream.usage.served_model == "served-1"
    assert stream.content_chars == len("Hello world")
    assert stream.first_token_at is not None


async def test_a_caller_that_asked_for_usage_gets_the_stream_byte_for_byte():
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True}}
    call = invocation("OpenAI", "v1", body)
    raw = b"".join(STREAM)
    chunks = cut(raw, 10)
    _, sent = await relayed(call, chunks)
    relayed_chunks = [m["body"] for m in sent if m["type"] == "http.response.body" and m["body"]]
    assert relayed_chunks == chunks  # not even re-cut into events
    assert call.stream is not None
    assert call.stream.usage.completion_tokens == 7


async def test_a_usage_chunk_with_content_is_kept_and_crlf_events_are_understood():
    call = invocation("OpenAI", "v1", {"model": "m", "stream": True})
    last = {**delta("!"), "usage": USAGE}
    raw = event(delta("Hi"), crlf=True) + event(last, crlf=True) + b"data: [DONE]\r\n\r\n"
    _, sent = await relayed(call, cut(raw, 3))
    assert body_of(sent) == raw
    assert call.stream is not None
    assert call.stream.usage.reported


async def test_an_anthropic_stream_is_metered_from_its_own_event_types():
    call = invocation("Anthropic", "2023-06-01", {"model": "claude", "stream": True})
    events = [
        ("message_start", {"type": "message_start", "message": {"model": "claude-x", "usage": {"input_tokens": 12, "output_tokens": 1}}}),
        ("content_block_delta", {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hello"}}),
        ("content_block_delta", {"type": "content_block_delta", "delta": {"type": "text_delta", "text": " you"}}),
        ("message_delta", {"type": "message_delta", "usage": {"output_tokens": 9}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    raw = b"".join(f"event: {e}\ndata: {json.dumps(d)}\n\n".encode() for e, d in events)
    _, sent = await relayed(call, cut(raw, 5))
    assert body_of(sent) == raw  # Anthropic is not asked for usage: nothing is hidden
    assert call.stream is not None
    usage = call.stream.usage
    assert usage.served_model == "claude-x"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 9, 21)
    assert call.stream.content_chars == len("Hello you")


async def test_a_deeply_nested_event_never_breaks_metering():
    call = invocation("OpenAI", "v1", {"model": "m", "stream": True})
    deep = b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n"
    _, sent = await relayed(call, [deep])
    assert body_of(sent) == deep
    assert call.stream is not None
    assert not call.stream.usage.reported


def test_include_usage_is_spliced_in_without_touching_the_callers_bytes():
    body = b'{ "model" : "m", "stream": true }\n'
    rewritten, parsed = with_include_usage(body, json.loads(body))
    assert rewritten.startswith(b'{ "model" : "m", "stream": true')
    assert json.loads(rewritten) == parsed
    assert parsed["stream_options"] == {"include_usage": True}


def test_existing_stream_options_are_kept():
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": False, "x": 1}}
    rewritten, parsed = with_include_usage(json.dumps(body).encode(), body)
    assert (
        json.loads(rewritten)["stream_options"]
        == {"include_usage": True, "x": 1}
        == (parsed["stream_options"])
    )


class _Refusing(PolicyRun):
    """Refuses the answer once it sees `word` (a response guardrail's shape)."""

    rewrites_stream = True
    holds_body = True

    def __init__(self, word: str) -> None:
        self.word = word

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        if head.status == 418:
            raise Refused(451, "Not this provider's status.", "policy_refused_status")
        return True

    async def on_body(self, body: bytes) -> bytes:
        if self.word.encode() in body:
            raise Refused(446, "The answer did not pass the guardrail.", "guardrail_intervened")
        return body.replace(b"Hello", b"Howdy")

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        if self.word.encode() in event.raw:
            raise Refused(446, "The answer did not pass the guardrail.", "guardrail_intervened")
        return None


class RefusingPolicy:
    name = "refusing"

    def __init__(self, word: str) -> None:
        self.word = word

    def start(self, call: Invocation) -> PolicyRun:
        return _Refusing(self.word)


async def test_a_policy_refusing_a_stream_before_its_first_byte_sets_the_status():
    call = invocation("OpenAI", "v1", {"model": "m", "stream": True})
    policies = (RefusingPolicy("Hello"), *BUILT_IN_POLICIES)
    status, sent = await relayed(call, STREAM[1:3], policies)
    assert status == 446
    assert sent[0]["status"] == 446
    assert json.loads(body_of(sent))["error"]["code"] == "guardrail_intervened"


async def test_a_policy_refusing_mid_stream_ends_it_with_an_error_event():
    call = invocation("OpenAI", "v1", {"model": "m", "stream": True})
    policies = (RefusingPolicy("world"), *BUILT_IN_POLICIES)
    status, sent = await relayed(call, STREAM, policies)
    assert status == 200
    assert sent[0]["status"] == 200
    out = body_of(sent)
    assert out.startswith(STREAM[0] + STREAM[1])
    assert b"world" not in out
    assert out.endswith(b'"code": "guardrail_intervened"}}\n\n')
    assert sent[-1].get("more_body", False) is False


async def test_a_policy_may_change_a_whole_answer_and_its_length_follows():
    call = invocation("OpenAI", "v1", {"model": "m"})
    answer = {"model": "served-1", "choices": [{"message": {"content": "Hello"}}], "usage": USAGE}
    raw = json.dumps(answer).encode()
    status, sent = await relayed(
        call, cut(raw, 8), (RefusingPolicy("nope"), *BUILT_IN_POLICIES), "application/json"
    )
    assert status == 200
    out = body_of(sent)
    assert json.loads(out)["choices"][0]["message"]["content"] == "Howdy"
    assert (b"content-length", str(len(out)).encode()) in sent[0]["headers"]
    assert call.usage is not None
    assert call.usage.total_tokens == 12  # metering read the provider's answer


async def test_a_policy_may_refuse_by_the_providers_status_alone():
    call = invocation("OpenAI", "v1", {"model": "m"})
    policies = (RefusingPolicy("nope"), *BUILT_IN_POLICIES)
    status, sent = await relayed(call, [b"{}"], policies, "application/json", status=418)
    assert (status, sent[0]["status"]) == (451, 451)
    assert json.loads(body_of(sent))["error"]["code"] == "policy_refused_status"


async def test_a_held_body_the_provider_breaks_off_is_a_502_not_a_crash():
    call = invocation("OpenAI", "v1", {"model": "m"})
    policies = (RefusingPolicy("nope"), *BUILT_IN_POLICIES)
    status, sent = await relayed(call, [b'{"a":'], policies, "application/json", breaks=True)
    assert (status, sent[0]["status"]) == (502, 502)
    assert json.loads(body_of(sent))["error"]["code"] == "upstream_error"


class _HoldsOnly(_Refusing):
    rewrites_stream = False  # only `holds_body`: a stream still passes through on_event


async def test_a_policy_holding_bodies_sees_every_event_of_a_stream():
    class HoldingPolicy(RefusingPolicy):
        def start(self, call: Invocation) -> PolicyRun:
            return _HoldsOnly(self.word)

    call = invocation("OpenAI", "v1", {"model": "m", "stream": True})
    status, sent = await relayed(call, STREAM[1:3], (HoldingPolicy("Hello"), *BUILT_IN_POLICIES))
    assert (status, sent[0]["status"]) == (446, 446)


def test_an_event_is_read_from_its_first_data_line_with_data_and_rewritten_in_place():
    raw = b'event: delta\r\nid: 7\r\ndata:\r\ndata: {"a": 1}\r\n\r\n'
    event = SseEvent(raw)
    assert event.json() == {"a": 1}
    changed = event.with_json({"a": 2})
    assert changed.raw == b'event: delta\r\nid: 7\r\ndata:\r\ndata: {"a":2}\r\n\r\n'
    assert changed.json() == {"a": 2}
    assert SseEvent(b"data: [DONE]\n\n").json() is None
