"""Request facts and the JSON usage scan (streams: test_relay.py)."""

import json

from aigw.common.vendors import builtin_spec
from aigw.gateway.metering.meter import Meter
from aigw.gateway.metering.request import facts


def meter_of(name: str, version: str) -> Meter:
    spec = builtin_spec(name, version)
    assert spec is not None
    return Meter(spec.metadata, spec.stream)


OPENAI = meter_of("OpenAI", "v1")


USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}


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
