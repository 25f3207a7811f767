"""The SSE tap, the include_usage rewrite and the JSON usage scan."""

import json

from aigw.common.vendors import builtin_spec
from aigw.gateway.metering.meter import Meter
from aigw.gateway.metering.request import facts, with_include_usage
from aigw.gateway.metering.sse import StreamTap


def meter_of(name: str, version: str) -> Meter:
    spec = builtin_spec(name, version)
    assert spec is not None
    return Meter(spec.metadata, spec.stream)


OPENAI = meter_of("OpenAI", "v1")


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


def relay(tap: StreamTap, raw: bytes, size: int) -> bytes:
    out = b"".join(tap.feed(raw[i : i + size]) for i in range(0, len(raw), size))
    return out + tap.rest()


def test_tap_strips_the_usage_chunk_whatever_the_chunking():
    raw = b"".join(STREAM)
    for size in (1, 7, 64, len(raw)):
        tap = StreamTap(OPENAI, strip_usage_chunk=True)
        out = relay(tap, raw, size)
        assert out == raw.replace(STREAM[3], b"")
        assert (tap.usage.prompt_tokens, tap.usage.total_tokens) == (5, 12)
        assert tap.usage.served_model == "served-1"
        assert tap.content_chars == len("Hello world")
        assert tap.first_token_at is not None


def test_tap_passes_everything_through_when_the_caller_asked_for_usage():
    raw = b"".join(STREAM)
    tap = StreamTap(OPENAI, strip_usage_chunk=False)
    assert relay(tap, raw, 10) == raw
    assert tap.usage.completion_tokens == 7


def test_tap_keeps_a_usage_chunk_that_carries_content_and_handles_crlf():
    last = {**delta("!"), "usage": USAGE}
    raw = event(delta("Hi"), crlf=True) + event(last, crlf=True) + b"data: [DONE]\r\n\r\n"
    tap = StreamTap(OPENAI, strip_usage_chunk=True)
    assert relay(tap, raw, 3) == raw
    assert tap.usage.reported


def test_include_usage_is_spliced_in_without_touching_the_callers_bytes():
    body = b'{ "model" : "m", "stream": true }\n'
    rewritten = with_include_usage(body, json.loads(body))
    assert rewritten.startswith(b'{ "model" : "m", "stream": true')
    assert json.loads(rewritten)["stream_options"] == {"include_usage": True}


def test_existing_stream_options_are_kept():
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": False, "x": 1}}
    rewritten = json.loads(with_include_usage(json.dumps(body).encode(), body))
    assert rewritten["stream_options"] == {"include_usage": True, "x": 1}


def test_request_facts():
    seen = facts({"model": "m", "stream": True, "max_tokens": 9, "max_completion_tokens": 4}, "m")
    assert (seen.model, seen.stream, seen.wants_usage, seen.max_completion_tokens) == (
        "m",
        True,
        False,
        4,
    )
    assert facts([1, 2], None).model is None
    assert facts({"max_tokens": True}, None).max_completion_tokens is None


def test_json_usage_scan_reads_only_the_keys():
    body = {
        "model": "gpt-x",
        "choices": [{"message": {"content": 'a "usage": {"prompt_tokens": 99} trap'}}],
        "usage": USAGE,
    }
    usage = OPENAI.answer(json.dumps(body).encode(), {})
    assert usage.served_model == "gpt-x"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 7, 12)
    assert not OPENAI.answer(b'{"error": {"message": "no"}}', {}).reported
