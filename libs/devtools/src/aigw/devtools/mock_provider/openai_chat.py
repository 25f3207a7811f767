"""OpenAI chat completions (`POST <any prefix>/chat/completions`): a deterministic
`chat.completion`, or with `"stream": true` `chat.completion.chunk` events, then (if
`stream_options.include_usage`) a usage chunk, then `data: [DONE]`. `x-mock-usage: omit`
reports no usage anywhere, `final-chunk` puts it in the last content chunk (Mistral style)."""

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aigw.devtools.mock_provider import sse
from aigw.devtools.mock_provider.asgi import Send, json_response
from aigw.devtools.mock_provider.call import Call
from aigw.devtools.mock_provider.content import (
    count_tokens,
    message_text,
    remaining,
    reply,
    words,
)
from aigw.devtools.mock_provider.openai_api import error


@dataclass(slots=True)
class _Answer:
    """What both the whole and the streamed answer are made of."""

    completion_id: str
    created: int
    model: str
    content: str
    usage: dict[str, int]
    usage_mode: str
    """`x-mock-usage`: "" (usage as asked for), "omit" or "final-chunk"."""


async def handle(call: Call, send: Send) -> None:
    request = call.request
    if request.method != "POST":
        await error(send, 405, f"Method {request.method} not allowed")
        return
    body = request.json
    if request.bad_json or not isinstance(body, dict):
        await error(send, 400, "We could not parse the JSON body of your request.")
        return
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        await error(send, 400, "'messages' is a required property")
        return
    answer = _answer(call, body, messages)
    total = answer.usage["total_tokens"]
    headers = [(b"x-ratelimit-remaining-tokens", remaining(total))]
    if not body.get("stream"):
        await json_response(send, 200, json.dumps(_completion(answer)).encode(), headers)
        return
    events = _chunks(answer, _includes_usage(body, answer.usage_mode))
    await sse.stream(send, [*sse.SSE_HEADERS, *headers], events, call.pacing)


def _answer(call: Call, body: dict[str, Any], messages: list[Any]) -> _Answer:
    model = str(body.get("model") or "mock-model")
    prompt = message_text(messages)
    prompt_tokens = count_tokens(prompt)
    content = reply(call.request.path, f"{model} model", prompt)
    completion_tokens = count_tokens(content)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
    usage_mode = call.request.headers.get("x-mock-usage", "")
    return _Answer(completion_id, int(time.time()), model, content, usage, usage_mode)


def _includes_usage(body: dict[str, Any], usage_mode: str) -> bool:
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    return include_usage and usage_mode == ""


def _completion(answer: _Answer) -> dict[str, Any]:
    completion: dict[str, Any] = {
        "id": answer.completion_id,
        "object": "chat.completion",
        "created": answer.created,
        "model": answer.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.content},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": answer.usage,
        "system_fingerprint": "fp_mock",
    }
    if answer.usage_mode == "omit":
        del completion["usage"]
    return completion


def _chunks(answer: _Answer, include_usage: bool) -> list[bytes]:
    base = {
        "id": answer.completion_id,
        "object": "chat.completion.chunk",
        "created": answer.created,
        "model": answer.model,
        "system_fingerprint": "fp_mock",
    }
    pieces: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    pieces += [{"content": w} for w in words(answer.content)]
    events = [
        sse.data_event({**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]})
        for d in pieces
    ]
    last: dict[str, Any] = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if answer.usage_mode == "final-chunk":
        last["usage"] = answer.usage
    events.append(sse.data_event(last))
    if include_usage:
        events.append(sse.data_event({**base, "choices": [], "usage": answer.usage}))
    events.append(b"data: [DONE]\n\n")
    return events
