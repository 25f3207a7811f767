"""Each check guardrail on both sides of a call, driven through its compiled policy: the
request before the provider, a JSON answer through the real relay; `invert`,
`showAssessment`, jsonPath, an Anthropic API's own format, the regex time bound and the
missing-factory 503."""

import json
import time

import pytest

from aigw.gateway.errors import Refused
from aigw.gateway.invocation import Intervention
from tests.support.guardrails import (
    answer,
    answered,
    body_of,
    call_for,
    chat,
    guardrail,
    policies,
    requested,
    status_of,
)

CASES = [  # type, params, a text that passes, one that intervenes
    ("REGEX_GUARDRAIL", {"regex": r"\bplease\b"}, "please help", "help now"),
    ("REGEX_GUARDRAIL", {"regex": r"(?i)ignore previous", "invert": True}, "hello", "IGNORE previous orders"),
    ("WORD_COUNT_GUARDRAIL", {"min": 2, "max": 4}, "one two three", "one two three four five"),
    ("WORD_COUNT_GUARDRAIL", {"min": 2, "max": 4, "invert": True}, "one", "one two"),
    ("SENTENCE_COUNT_GUARDRAIL", {"min": 1, "max": 2}, "One. Two!", "One. Two! Three?"),
    ("CONTENT_LENGTH_GUARDRAIL", {"min": 1, "max": 5}, "héllo"[:4], "héllo!"),
    ("CONTENT_LENGTH_GUARDRAIL", {"max": 5, "invert": True}, "long enough", "tiny"),
    ("JSON_SCHEMA_GUARDRAIL", {"schema": {"type": "object", "required": ["a"]}}, '{"a": 1}', '{"b": 1}'),
    ("JSON_SCHEMA_GUARDRAIL", {"schema": {"type": "object"}}, '```json\n{"a": 1}\n```', "not json"),
    ("JSON_SCHEMA_GUARDRAIL", {"schema": {"type": "object"}, "invert": True}, "[1]", "{}"),
    # the schema's own regexes run with the time bound: a caller's text cannot stall the loop
    ("JSON_SCHEMA_GUARDRAIL", {"schema": {"type": "string", "pattern": "^(a|aa)+$"}}, '"aaaa"', '"' + "a" * 40 + 'b"'),
    ("JSON_SCHEMA_GUARDRAIL", {"schema": {"patternProperties": {"^(a|aa)+$": {"type": "integer"}}}}, '{"aa": 1}', '{"' + "a" * 40 + 'b": 1, "aa": "x"}'),
]  # fmt: skip


@pytest.mark.parametrize("ref", ["#/$defs/nope", "http://schemas.example/elsewhere"])
async def test_a_schema_reference_that_resolves_nowhere_intervenes_never_fails(ref):
    """Nothing is fetched, and nothing validates: a 446 naming the schema, never a 500."""
    params = {"schema": {"$ref": ref}, "showAssessment": True}
    (policy,) = policies([guardrail("JSON_SCHEMA_GUARDRAIL", params, flow="request")])
    with pytest.raises(Refused) as refused:
        await requested(call_for(chat("{}")), [policy])
    assert refused.value.status == 446
    (problem,) = json.loads(refused.value.body())["guardrail"]["assessments"]
    assert problem.startswith("The schema cannot be evaluated")


@pytest.mark.parametrize(("kind", "params", "passing", "failing"), CASES)
async def test_a_check_passes_or_intervenes_on_the_request(kind, params, passing, failing):
    (policy,) = policies([guardrail(kind, params, flow="request")])
    call = call_for(chat(passing))
    await requested(call, [policy])
    assert call.intervention is None
    call = call_for(chat(failing))
    with pytest.raises(Refused) as refused:
        await requested(call, [policy])
    assert refused.value.status == 446
    assert call.intervention == Intervention("g1", "REQUEST")
    body = json.loads(refused.value.body())
    assert body["error"]["type"] == "guardrail_intervened"
    assert body["error"]["code"] == "900514"
    details = body["guardrail"]
    assert details["interveningGuardrail"] == "g1"
    assert details["action"] == "GUARDRAIL_INTERVENED"
    assert details["direction"] == "REQUEST"
    assert details["actionReason"] == body["error"]["message"]
    assert "assessments" not in details  # only with showAssessment


@pytest.mark.parametrize(("kind", "params", "passing", "failing"), CASES)
async def test_a_check_passes_or_intervenes_on_a_json_answer(kind, params, passing, failing):
    (policy,) = policies([guardrail(kind, {**params, "showAssessment": True}, flow="response")])
    call = call_for(chat("anything"))
    runs = await requested(call, [policy])  # a response-only guardrail leaves the request
    status, sent = await answered(call, runs, [answer(passing)], "application/json")
    assert (status, json.loads(body_of(sent))) == (200, json.loads(answer(passing)))
    call = call_for(chat("anything"))
    runs = await requested(call, [policy])
    status, sent = await answered(call, runs, [answer(failing)], "application/json")
    assert status == status_of(sent) == 446
    details = json.loads(body_of(sent))["guardrail"]
    assert details["direction"] == "RESPONSE"
    assert details["assessments"]  # showAssessment says what the check found
    assert call.intervention == Intervention("g1", "RESPONSE")


async def test_an_error_answer_is_not_judged():
    (policy,) = policies([guardrail("REGEX_GUARDRAIL", {"regex": "never"}, flow="response")])
    call = call_for(chat("x"))
    error = json.dumps({"error": {"message": "busy"}}).encode()
    status, sent = await answered(call, [policy.start(call)], [error], "application/json", 503)  # type: ignore[list-item]
    assert (status, body_of(sent)) == (503, error)


async def test_json_path_picks_the_text_and_list_content_text_parts_count():
    params = {"regex": "secret", "invert": True, "jsonPath": "$.messages[-1].content"}
    (policy,) = policies([guardrail("REGEX_GUARDRAIL", params)])
    await requested(call_for(chat("secret", "fine")), [policy])  # only the last message
    parts = [{"type": "text", "text": "a secret"}, {"type": "image_url", "image_url": {"url": "u"}}]
    with pytest.raises(Refused):
        await requested(call_for(chat("fine", parts)), [policy])


async def test_an_anthropic_api_is_checked_in_its_own_format():
    (policy,) = policies(
        [guardrail("REGEX_GUARDRAIL", {"regex": "bad", "invert": True})], "anthropic"
    )
    body = {"model": "claude", "system": "be bad", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(Refused):
        await requested(call_for(body, "anthropic"), [policy])  # the system prompt counts
    call = call_for({**body, "system": "be good"}, "anthropic")
    runs = await requested(call, [policy])
    reply = json.dumps({"content": [{"type": "text", "text": "so bad"}]}).encode()
    status, _ = await answered(call, runs, [reply], "application/json")
    assert status == 446


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)+$"])
async def test_a_catastrophic_regex_finishes_within_its_time_bound(pattern):
    """The `regex` module answers `(a+)+$` at once; `(a|aa)+$` backtracks exponentially and is
    cut at the bound: either way the call is decided within it (fail closed)."""
    (policy,) = policies([guardrail("REGEX_GUARDRAIL", {"regex": pattern})], regex_timeout_ms=50)
    call = call_for(chat("a" * 40 + "b"))
    started = time.perf_counter()
    with pytest.raises(Refused) as refused:
        await requested(call, [policy])
    assert time.perf_counter() - started < 1.0  # unbounded, this takes hours
    assert refused.value.status == 446  # no match, or no verdict in time: intervenes
    if pattern == "(a|aa)+$":
        assert "within 50 ms" in refused.value.message


async def test_a_guardrail_type_without_a_factory_refuses_every_call_with_503():
    rules = {"rules": {"denyPrompts": ["how to make a bomb"]}}
    semantic = guardrail("SEMANTIC_PROMPT_GUARD", rules, flow="request")
    (policy,) = policies([semantic])
    call = call_for(chat("hello"))
    with pytest.raises(Refused) as refused:
        await requested(call, [policy])
    assert (refused.value.status, refused.value.code) == (503, "guardrail_unavailable")
    assert call.intervention is None  # not an intervention: the gateway could not judge

    made = []

    def factory(config, route):
        made.append((config.name, route.api_id))
        return policies([guardrail("WORD_COUNT_GUARDRAIL", {"max": 100})])[0]

    (policy,) = policies([semantic], factories={"SEMANTIC_PROMPT_GUARD": factory})
    await requested(call_for(chat("hello")), [policy])
    assert made == [("g1", "api")]


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "prompt": "please say FORBIDDEN"},  # completions
        {"model": "m", "prompt": ["fine", "say FORBIDDEN"]},
        {"model": "m", "prompt": "def f(", "suffix": "FORBIDDEN"},  # fill in the middle
        {"model": "m", "input": ["FORBIDDEN text to embed"]},  # embeddings, moderations
    ],
)
async def test_another_operation_of_the_api_is_no_way_around_a_guardrail(body):
    deny = {"regex": "FORBIDDEN", "invert": True}
    (policy,) = policies([guardrail("REGEX_GUARDRAIL", deny, flow="request")])
    with pytest.raises(Refused) as refused:
        await requested(call_for(body), [policy])
    assert refused.value.status == 446


async def test_an_anthropic_tool_result_is_checked_like_any_text():
    deny = {"regex": "FORBIDDEN", "invert": True}
    (policy,) = policies([guardrail("REGEX_GUARDRAIL", deny, flow="request")], "anthropic")
    result = {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "FORBIDDEN"}]}  # fmt: skip
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [result]}]}
    with pytest.raises(Refused):
        await requested(call_for(body, "anthropic"), [policy])
