"""Response guardrails on event streams through the real relay: a deny-list regex cuts the
stream before any text of its match is let out, whatever the chunking; a required match and
the whole-answer checks hold the stream and answer 446 before the first byte; the hold-back
stays bounded; Anthropic streams too."""

import json

import pytest

from aigw.gateway.invocation import Intervention
from aigw.gateway.policies.sse import SseEvent
from tests.support.guardrails import (
    answered,
    anthropic_stream,
    body_of,
    call_for,
    chat,
    error_event,
    guardrail,
    openai_stream,
    policies,
    requested,
    status_of,
    streamed_text,
)
from tests.support.relay import ProviderStub

DENY = {"regex": r"secret-\d+", "invert": True}


def cut(raw: bytes, size: int) -> list[bytes]:
    return [raw[i : i + size] for i in range(0, len(raw), size)]


async def stream_through(guardrails, texts, vendor="openai", size=None, **compiler):
    call = call_for({**chat("q"), "stream": True}, vendor)
    runs = await requested(call, policies(guardrails, vendor, **compiler))
    events = (anthropic_stream if vendor == "anthropic" else openai_stream)(*texts)
    raw = b"".join(events)
    status, sent = await answered(call, runs, cut(raw, size) if size else events)
    return call, status, sent


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
async def test_a_clean_stream_passes_with_its_text_intact(vendor):
    texts = ["Hello", " there, secret", " agent", "!"]
    _, status, sent = await stream_through([guardrail("REGEX_GUARDRAIL", DENY)], texts, vendor)
    assert status == 200
    assert streamed_text(body_of(sent)) == "".join(texts)
    assert error_event(body_of(sent)) is None


@pytest.mark.parametrize("size", [None, 1, 5, 17])
async def test_a_match_split_across_events_never_reaches_the_client(size):
    texts = ["The code is sec", "ret-", "4", "2 and more", " text"]
    call, status, sent = await stream_through(
        [guardrail("REGEX_GUARDRAIL", {**DENY, "showAssessment": True})], texts, size=size
    )
    raw = body_of(sent)
    seen = streamed_text(raw)
    assert "sec" not in seen
    assert "4" not in seen
    assert seen == "The code is "  # what precedes it was not held back for nothing
    error = error_event(raw)
    assert error is not None
    assert error["error"]["code"] == "900514"
    assert error["guardrail"]["direction"] == "RESPONSE"
    assert error["guardrail"]["assessments"]
    assert raw.endswith(b"\n\n")
    assert b"[DONE]" not in raw
    assert (status, call.intervention) == (200, Intervention("g1", "RESPONSE"))


async def test_a_match_in_the_first_event_is_a_446_before_any_byte():
    _, status, sent = await stream_through([guardrail("REGEX_GUARDRAIL", DENY)], ["secret-1 x"])
    assert status == status_of(sent) == 446
    assert json.loads(body_of(sent))["guardrail"]["interveningGuardrail"] == "g1"


async def test_an_anthropic_stream_is_cut_in_its_own_format():
    texts = ["ok ", "secr", "et-9"]
    _, _, sent = await stream_through([guardrail("REGEX_GUARDRAIL", DENY)], texts, "anthropic", 3)
    raw = body_of(sent)
    assert streamed_text(raw) == "ok "
    assert error_event(raw) is not None


async def test_the_hold_back_is_bounded_by_the_setting():
    """`a.*z` could match anything after an `a`: at most `holdback` characters are held."""
    params = {"regex": "a.*z", "invert": True}
    texts = ["a"] + ["b" * 10] * 10
    call = call_for({**chat("q"), "stream": True})
    (run,) = await requested(call, policies([guardrail("REGEX_GUARDRAIL", params)], holdback=32))
    assert run.on_response(call, ProviderStub([], "text/event-stream"))
    let_out, taken, held = "", "", []
    for text in texts:
        out = run.on_event(SseEvent(openai_stream(text)[0]))
        taken += text
        let_out += text if out is None else "".join(streamed_text(e.raw) for e in out)
        held.append(len(taken) - len(let_out))
    assert max(held) == 32  # never more than the hold-back; the rest went out as it came
    rest = "".join(streamed_text(e.raw) for e in await run.on_end())
    assert let_out + rest == taken  # no match: all of it, in order


async def test_a_required_match_holds_the_stream_until_it_appears():
    params = {"regex": "ANSWER:"}
    _, status, sent = await stream_through(
        [guardrail("REGEX_GUARDRAIL", params, flow="response")], ["x", "ANS", "WER: 4"]
    )
    assert status == 200
    assert streamed_text(body_of(sent)) == "xANSWER: 4"
    _, status, sent = await stream_through(
        [guardrail("REGEX_GUARDRAIL", params, flow="response")], ["no", " luck"]
    )
    assert status == status_of(sent) == 446  # held whole: the refusal comes before any byte
    assert b"luck" not in body_of(sent)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("WORD_COUNT_GUARDRAIL", {"max": 3}),
        ("SENTENCE_COUNT_GUARDRAIL", {"max": 1}),
        ("CONTENT_LENGTH_GUARDRAIL", {"max": 10}),
        ("JSON_SCHEMA_GUARDRAIL", {"schema": {"type": "object"}}),
    ],
)
async def test_whole_answer_checks_buffer_the_stream(kind, params):
    _, status, sent = await stream_through(
        [guardrail(kind, params, flow="response")], ["One. ", "Two. ", "Three four."]
    )
    assert status == status_of(sent) == 446
    body = json.loads(body_of(sent))
    assert body["guardrail"]["direction"] == "RESPONSE"
    _, status, sent = await stream_through(
        [guardrail(kind, {**params, "invert": True}, flow="response")],
        ["One. ", "Two. ", "Three four."],
    )
    assert status == 200
    assert streamed_text(body_of(sent)) == "One. Two. Three four."
