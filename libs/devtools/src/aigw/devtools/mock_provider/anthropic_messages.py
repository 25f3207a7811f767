"""The Anthropic Messages API (`POST <any prefix>/v1/messages`): key in `x-api-key` (or
`Authorization: Bearer`), `anthropic-version` and a body with `model`, `max_tokens` > 0 and
non-empty `messages` required; a `message` with one text block, or with `"stream": true`
Anthropic's named event sequence. Every error has Anthropic's shape."""

import json
import uuid
from typing import Any

from aigw.devtools.mock_provider import sse
from aigw.devtools.mock_provider.asgi import Send, error_response, json_response
from aigw.devtools.mock_provider.call import Call, Request
from aigw.devtools.mock_provider.content import (
    count_tokens,
    message_text,
    remaining,
    reply,
    words,
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str) -> bytes:
    kind = _ERROR_TYPES.get(status)
    if kind is None:
        kind = "api_error" if status >= 500 else "invalid_request_error"
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


async def _error(send: Send, status: int, message: str) -> None:
    await error_response(send, error_body, status, message)


def _authorised(call: Call) -> bool:
    keys = call.api_keys
    auth = call.request.headers.get("authorization", "")
    bearer = auth[:7].lower() == "bearer " and auth[7:].strip() in keys
    return bearer or call.request.headers.get("x-api-key", "") in keys


def _body_problem(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
        return "max_tokens: Field required (an integer greater than 0)"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: Field required (at least one message)"
    return None


def _problem(call: Call) -> tuple[int, str] | None:
    """Why the call cannot be answered (status and message), checked in Anthropic's order."""
    request = call.request
    if not _authorised(call):
        return 401, "invalid x-api-key"
    if request.method != "POST":
        return 405, f"Method {request.method} not allowed"
    if not request.headers.get("anthropic-version"):
        return 400, "anthropic-version: header is required"
    if not isinstance(request.json, dict):
        return 400, "The request body is not a valid JSON object."
    problem = _body_problem(request.json)
    return (400, problem) if problem else None


async def handle(call: Call, send: Send) -> None:
    problem = _problem(call)
    if problem:
        await _error(send, *problem)
        return
    body: dict[str, Any] = call.request.json
    message = _message(call.request, body)
    usage = message["usage"]
    tokens = usage["input_tokens"] + usage["output_tokens"]
    headers = [(b"anthropic-ratelimit-tokens-remaining", remaining(tokens))]
    if not body.get("stream"):
        await json_response(send, 200, json.dumps(message).encode(), headers)
        return
    await sse.stream(send, [*sse.SSE_HEADERS, *headers], _events(message), call.pacing)


def _message(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    model: str = body["model"]
    system = body.get("system")
    prompt = message_text(body["messages"])
    if isinstance(system, str | list):
        prompt = message_text([{"content": system}, {"content": prompt}])
    text = reply(request.path, f"{model} model", prompt)
    return {
        "id": "msg_" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": count_tokens(prompt), "output_tokens": count_tokens(text)},
    }


def _events(message: dict[str, Any]) -> list[bytes]:
    """Anthropic's stream of `message`: start, one text block in word deltas, delta, stop."""
    usage = message["usage"]
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1},
    }
    block_start = {"type": "text", "text": ""}
    events = [
        sse.named_event("message_start", {"type": "message_start", "message": start}),
        sse.named_event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": block_start},
        ),
        sse.named_event("ping", {"type": "ping"}),
    ]
    events += [_text_delta(piece) for piece in words(message["content"][0]["text"])]
    events += [
        sse.named_event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        sse.named_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        ),
        sse.named_event("message_stop", {"type": "message_stop"}),
    ]
    return events


def _text_delta(piece: str) -> bytes:
    delta = {"type": "text_delta", "text": piece}
    return sse.named_event(
        "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
    )
