"""The official OpenAI Python SDK, pointed at the gateway, non-streaming and streaming."""

from typing import Any

import pytest
from openai import AuthenticationError, OpenAI

from aigw.devtools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _client(stack: Stack, mistral: dict[str, Any], key: str) -> OpenAI:
    base = f"{stack.url('gateway')}/{mistral['context']}/0.0.2/v1"
    return OpenAI(base_url=base, api_key=key, max_retries=0)


def test_chat_completion(stack: Stack, mistral: dict[str, Any]) -> None:
    client = _client(stack, mistral, mistral["PRODUCTION"])
    completion = client.chat.completions.create(
        model="mistral-small-latest",
        messages=[{"role": "user", "content": "Who is the most renowned French painter?"}],
    )
    assert completion.model == "mistral-small-latest"
    assert completion.choices[0].message.content
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0


def test_chat_completion_stream(stack: Stack, mistral: dict[str, Any]) -> None:
    client = _client(stack, mistral, mistral["SANDBOX"])
    stream = client.chat.completions.create(
        model="mistral-small-latest",
        messages=[{"role": "user", "content": "Who is the most renowned French painter?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "[sandbox]" in text
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0


def test_bad_key_is_an_authentication_error(stack: Stack, mistral: dict[str, Any]) -> None:
    client = _client(stack, mistral, "aigw_wrong")
    with pytest.raises(AuthenticationError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
