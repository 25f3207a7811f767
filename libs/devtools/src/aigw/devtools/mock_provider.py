"""A mock AI provider speaking three wire formats: OpenAI chat completions (also Mistral and
Azure OpenAI), the Anthropic Messages API and a made-up "Acme" vendor API whose token counts
sit in unusual places (a gateway must be told JSONPaths to meter it).

It is the benchmark baseline for the gateway, so it is a lean raw-ASGI app with no framework.
Every answer names the first path segment (`[production]`) so callers can tell which
"endpoint" answered; several endpoints of one mock are told apart by that segment.

- `POST <any prefix>/chat/completions` (e.g. `/production/v1/chat/completions`,
  `/sandbox/chat/completions`, `/openai/deployments/{d}/chat/completions?api-version=...`):
  a deterministic `chat.completion`; with `"stream": true` a `text/event-stream` of
  `chat.completion.chunk` events, then (if `stream_options.include_usage`) a usage chunk,
  then `data: [DONE]`. Header `x-ratelimit-remaining-tokens: <1_000_000 - total tokens>`.
  Auth: `Authorization: Bearer <key>` or `api-key: <key>`, else 401.
- `GET <any prefix>/models`: a model list (same auth).
- `POST <any prefix>/v1/messages` (Anthropic): auth `x-api-key: <key>` (or
  `Authorization: Bearer <key>`) else 401 `authentication_error`; header `anthropic-version`
  and a body with `model` (str), `max_tokens` (int > 0) and `messages` (non-empty list) are
  required, else 400 `invalid_request_error`. Answers a `message` with one text block,
  `stop_reason: end_turn` and `usage {input_tokens, output_tokens}` (input counted over
  `system` and `messages`); with `"stream": true` Anthropic's event sequence (`event: <type>` +
  `data: <json>`): message_start, content_block_start, ping, content_block_delta...,
  content_block_stop, message_delta (with `usage.output_tokens`), message_stop. Header
  `anthropic-ratelimit-tokens-remaining`. Every error of this path, failures included, has
  Anthropic's shape `{"type": "error", "error": {"type": ..., "message": ...}}`
  (429 `rate_limit_error`, 529 `overloaded_error`, other 5xx `api_error`).
- `POST <any prefix>/acme/generate?key=<key>` (Acme; the key is a query parameter, else 401
  `{"fault": {"reason": "bad key"}}`): body `{"engine", "input", "stream"?}` (missing
  engine/input: 400); answers `{"output": {"text"}, "meta": {"engine": "<engine>-2026"},
  "billing": {"tokens": {"in", "out", "sum"}}}` with header `x-acme-tokens-left`; streamed:
  `data: {"delta": {"text"}}` events, then one `data: {"meta", "billing"}` event (no [DONE]).
  Errors of this path are `{"fault": {"reason": ...}}`.
- Failure and latency control, checked before auth (latency, then failure): per request with
  headers `x-mock-latency-ms`, `x-mock-status`, `x-mock-chunk-delay-ms` (a pause before every
  streamed event, the first included, so headers come at once and the first event late; a
  stream stops when the client leaves during a pause), `x-mock-break-after-chunks` (0: off; a
  streamed answer sends that many events, all if it has fewer, then the server drops the
  connection without the terminating chunk: the client sees a truncated body); usage reporting
  of the OpenAI path with `x-mock-usage`: `omit` (no usage anywhere) or `final-chunk` (Mistral
  style: usage in the last content chunk, always). At runtime: `POST /_mock/config` with any of
  `{"latencyMs", "failStatus", "chunkDelayMs", "breakAfterChunks", "gzip"}` (global; a bad
  update is a 400 and changes nothing; `"gzip": true` compresses every answer, streams event by
  event, when the request's `Accept-Encoding` accepts gzip, as some providers do) and
  `"segments": {"<first path segment>": {<any of those five>}}`
  (per-endpoint overrides, e.g. `/a/...` vs `/b/...`; the posted map replaces the previous one,
  `{}` clears it, omitting it keeps it; `"failStatus": null` in a segment means no failure there);
  precedence: header, then segment, then global. `GET /_mock/config` shows it all.
  `GET /_mock/requests` (the last 100 requests: method, path, query, headers, json; failed ones
  included), `DELETE /_mock/requests`.

Run: `python -m aigw.devtools.mock_provider --port 8090 [--api-keys k1,k2] [--latency-ms N]`
(keys also from `MOCK_PROVIDER_API_KEYS`).
"""

import argparse
import asyncio
import collections
import json
import math
import os
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

DEFAULT_API_KEYS = "mock-provider-key,mock-sandbox-key"
RECORDED_REQUESTS = 100
TOKEN_BUDGET = 1_000_000
"""The `*-remaining-tokens` headers report this minus the tokens of the answer."""

_JSON = [(b"content-type", b"application/json")]
_SSE = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
]
_ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}
_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

_OPENAI, _ANTHROPIC, _ACME = 0, 1, 2


class StreamBroken(Exception):
    """Raised after a streamed answer started, on purpose (`breakAfterChunks`): the server then
    closes the connection without the terminating chunk, so the client sees a truncated body."""


@dataclass
class MockConfig:
    api_keys: frozenset[str] = field(default_factory=lambda: frozenset(DEFAULT_API_KEYS.split(",")))
    latency_ms: float = 0.0
    fail_status: int | None = None
    chunk_delay_ms: float = 0.0
    break_after_chunks: int = 0
    gzip: bool = False
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per first-path-segment overrides, keyed by the `/_mock/config` names (`latencyMs`...)."""

    @classmethod
    def from_keys(cls, keys: str, **kwargs: Any) -> "MockConfig":
        return cls(api_keys=frozenset(k.strip() for k in keys.split(",") if k.strip()), **kwargs)


def count_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: about 4/3 tokens per word."""
    words = len(text.split())
    return max(1, (words * 4 + 2) // 3) if words else 0


def _message_text(messages: list[Any]) -> str:
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
            )
    return " ".join(parts)


def _first_segment(path: str) -> str:
    return path.strip("/").split("/", 1)[0] or "root"


def _reply(path: str, source: str, text: str) -> str:
    echo = " ".join(text.split()[:8])
    return f"[{_first_segment(path)}] Mock reply from the {source} to: {echo}"


def _words(text: str) -> list[str]:
    return [w if i == 0 else " " + w for i, w in enumerate(text.split(" "))]


def _remaining(tokens: int) -> bytes:
    return str(TOKEN_BUDGET - tokens).encode()


def _error_body(status: int, message: str) -> bytes:
    kind, code = _ERROR_TYPES.get(status, ("server_error" if status >= 500 else "api_error", None))
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code or str(status)}}
    ).encode()


def _anthropic_error_body(status: int, message: str) -> bytes:
    kind = _ANTHROPIC_ERROR_TYPES.get(status)
    if kind is None:
        kind = "api_error" if status >= 500 else "invalid_request_error"
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


def _acme_error_body(status: int, message: str) -> bytes:
    return json.dumps({"fault": {"reason": message}}).encode()


_ERROR_BODIES: tuple[Callable[[int, str], bytes], ...] = (
    _error_body,
    _anthropic_error_body,
    _acme_error_body,
)


async def _json_response(
    send: Send, status: int, body: bytes, extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    headers = [*_JSON, (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, message: str, api: int = _OPENAI) -> None:
    await _json_response(send, status, _ERROR_BODIES[api](status, message))


@dataclass(frozen=True, slots=True)
class _Pacing:
    """How a streamed answer is sent: `delay_ms` before every event, and with `break_after` > 0
    only that many events before the connection is dropped."""

    receive: Receive
    delay_ms: float
    break_after: int


async def _stream(send: Send, headers: Headers, events: list[bytes], pacing: _Pacing) -> None:
    """Send `events` as one streamed body; stop early when the client leaves during a delay."""
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    delay = pacing.delay_ms / 1000
    last = len(events) - 1
    if pacing.break_after > 0:
        events = events[: pacing.break_after]
        last = -1
    # the request body was read: the next message is `http.disconnect` (uvicorn sends it when
    # the client leaves or the response completes), so waiting on it doubles as the delay
    left: asyncio.Future[Message] | None = None
    try:
        for i, data in enumerate(events):
            if delay > 0:
                if left is None:
                    left = asyncio.ensure_future(pacing.receive())
                done, _ = await asyncio.wait((left,), timeout=delay)
                if done:
                    return  # the client left: no one to stream to
            await send({"type": "http.response.body", "body": data, "more_body": i != last})
    finally:
        if left is not None:
            left.cancel()
    if last < 0:
        raise StreamBroken(f"connection dropped after {len(events)} events (breakAfterChunks)")


def _data_event(payload: Any) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _named_event(kind: str, payload: Any) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + json.dumps(payload).encode() + b"\n\n"


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


def _duration(key: str, value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{key} must be a number")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{key} must be a finite number >= 0")
    return number


def _count(key: str, value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{key} must be an integer")
    number = int(value)
    if number < 0:
        raise ValueError(f"{key} must be >= 0")
    return number


def _status(key: str, value: Any) -> int | None:
    number = _count(key, value)
    if number == 0:
        return None
    if not 400 <= number <= 599:
        raise ValueError(f"{key} must be an HTTP error status (400-599), 0 or null")
    return number


def _flag(key: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false")
    return value


_SETTINGS: dict[str, Callable[[str, Any], Any]] = {
    "latencyMs": _duration,
    "failStatus": _status,
    "chunkDelayMs": _duration,
    "breakAfterChunks": _count,
    "gzip": _flag,
}


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` value accepts gzip (`gzip` or `*`, with a q above 0)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() not in ("gzip", "*"):
            continue
        q = params.strip().removeprefix("q=")
        try:
            return not params.strip() or float(q) > 0
        except ValueError:
            return False
    return False


def _gzipped(send: Send) -> Send:
    """`send` with the response gzip-encoded: each body chunk compressed and flushed at once,
    so a stream stays a stream (as providers that compress their SSE do)."""
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)

    async def send_gzipped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message["headers"] if k != b"content-length"]
            headers.append((b"content-encoding", b"gzip"))
            message = {**message, "headers": headers}
        elif message["type"] == "http.response.body":
            data = compressor.compress(message.get("body", b""))
            more = message.get("more_body", False)
            data += compressor.flush(zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH)
            message = {**message, "body": data}
        await send(message)

    return send_gzipped


def _parse_settings(update: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, value in update.items():
        parse = _SETTINGS.get(key)
        if parse is not None:
            settings[key] = parse(key, value)
        elif strict:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(_SETTINGS)})")
    return settings


def _parse_segments(value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("segments must be an object of first path segment to settings")
    segments: dict[str, dict[str, Any]] = {}
    for name, settings in value.items():
        if not isinstance(settings, dict):
            raise TypeError(f"segments.{name} must be an object")
        segments[name] = _parse_settings(settings, strict=True)
    return segments


def _anthropic_problem(request: dict[str, Any]) -> str | None:
    if not isinstance(request.get("model"), str):
        return "model: Field required"
    max_tokens = request.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
        return "max_tokens: Field required (an integer greater than 0)"
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: Field required (at least one message)"
    return None


class MockProvider:
    """The ASGI app. `config` may be changed at runtime through `POST /_mock/config`."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.requests: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=RECORDED_REQUESTS
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith("/_mock/"):
            await self._control(path, method, receive, send)
            return
        body = await _read_body(receive)
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers[name.decode("latin-1")] = value.decode("latin-1")
        parsed: Any = None
        bad_json = False
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                bad_json = True
        query = scope.get("query_string", b"").decode("latin-1")
        self.requests.append(
            {"method": method, "path": path, "query": query, "headers": headers, "json": parsed}
        )
        if path.endswith("/v1/messages"):
            api = _ANTHROPIC
        elif path.endswith("/acme/generate"):
            api = _ACME
        else:
            api = _OPENAI
        config = self.config
        latency = config.latency_ms
        fail_status = config.fail_status
        chunk_delay = config.chunk_delay_ms
        break_after = config.break_after_chunks
        gzip = config.gzip
        if config.segments:
            override = config.segments.get(_first_segment(path))
            if override:
                latency = override.get("latencyMs", latency)
                fail_status = override.get("failStatus", fail_status)
                chunk_delay = override.get("chunkDelayMs", chunk_delay)
                break_after = override.get("breakAfterChunks", break_after)
                gzip = override.get("gzip", gzip)
        if gzip and _accepts_gzip(headers.get("accept-encoding", "")):
            send = _gzipped(send)
        latency = float(headers.get("x-mock-latency-ms") or latency)
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        status_header = headers.get("x-mock-status")
        if status_header:
            fail_status = int(status_header)
        if fail_status and fail_status >= 400:
            await _error(send, fail_status, f"Mock failure with status {fail_status}", api)
            return
        chunk_delay = float(headers.get("x-mock-chunk-delay-ms") or chunk_delay)
        break_after = int(headers.get("x-mock-break-after-chunks") or break_after)
        pacing = _Pacing(receive, chunk_delay, break_after)
        if api == _ANTHROPIC:
            await self._anthropic(path, method, headers, parsed, pacing, send)
            return
        if api == _ACME:
            await self._acme(path, method, query, parsed, pacing, send)
            return
        if not self._authorised(headers):
            await _error(
                send,
                401,
                "Incorrect API key provided. You can find your API key at the provider console.",
            )
            return
        if path.endswith("/chat/completions"):
            if method != "POST":
                await _error(send, 405, f"Method {method} not allowed")
                return
            if bad_json or not isinstance(parsed, dict):
                await _error(send, 400, "We could not parse the JSON body of your request.")
                return
            messages = parsed.get("messages")
            if not isinstance(messages, list) or not messages:
                await _error(send, 400, "'messages' is a required property")
                return
            usage_mode = headers.get("x-mock-usage", "")
            await self._chat(path, parsed, messages, pacing, usage_mode, send)
            return
        if path.endswith("/models") and method == "GET":
            await self._models(send)
            return
        await _error(send, 404, f"Unknown path {path}")

    def _authorised(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and auth[7:].strip() in self.config.api_keys:
            return True
        return headers.get("api-key", "") in self.config.api_keys

    async def _chat(
        self,
        path: str,
        request: dict[str, Any],
        messages: list[Any],
        pacing: _Pacing,
        usage_mode: str,
        send: Send,
    ) -> None:
        model = str(request.get("model") or "mock-model")
        prompt = _message_text(messages)
        prompt_tokens = count_tokens(prompt)
        content = _reply(path, f"{model} model", prompt)
        completion_tokens = count_tokens(content)
        total_tokens = prompt_tokens + completion_tokens
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": total_tokens,
        }
        remaining = (b"x-ratelimit-remaining-tokens", _remaining(total_tokens))
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        if not request.get("stream"):
            answer = {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
                "system_fingerprint": "fp_mock",
            }
            if usage_mode == "omit":
                del answer["usage"]
            await _json_response(send, 200, json.dumps(answer).encode(), (remaining,))
            return
        options = request.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        include_usage = include_usage and usage_mode == ""
        base = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_mock",
        }
        pieces: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        pieces += [{"content": w} for w in _words(content)]
        events = [
            _data_event({**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]})
            for d in pieces
        ]
        last: dict[str, Any] = {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        if usage_mode == "final-chunk":
            last["usage"] = usage
        events.append(_data_event(last))
        if include_usage:
            events.append(_data_event({**base, "choices": [], "usage": usage}))
        events.append(b"data: [DONE]\n\n")
        await _stream(send, [*_SSE, remaining], events, pacing)

    async def _anthropic(
        self,
        path: str,
        method: str,
        headers: dict[str, str],
        request: Any,
        pacing: _Pacing,
        send: Send,
    ) -> None:
        keys = self.config.api_keys
        auth = headers.get("authorization", "")
        bearer = auth[:7].lower() == "bearer " and auth[7:].strip() in keys
        if not bearer and headers.get("x-api-key", "") not in keys:
            await _error(send, 401, "invalid x-api-key", _ANTHROPIC)
            return
        if method != "POST":
            await _error(send, 405, f"Method {method} not allowed", _ANTHROPIC)
            return
        if not headers.get("anthropic-version"):
            await _error(send, 400, "anthropic-version: header is required", _ANTHROPIC)
            return
        if not isinstance(request, dict):
            await _error(send, 400, "The request body is not a valid JSON object.", _ANTHROPIC)
            return
        problem = _anthropic_problem(request)
        if problem:
            await _error(send, 400, problem, _ANTHROPIC)
            return
        model: str = request["model"]
        system = request.get("system")
        prompt = _message_text(request["messages"])
        if isinstance(system, str | list):
            prompt = _message_text([{"content": system}, {"content": prompt}])
        input_tokens = count_tokens(prompt)
        text = _reply(path, f"{model} model", prompt)
        output_tokens = count_tokens(text)
        remaining = (
            b"anthropic-ratelimit-tokens-remaining",
            _remaining(input_tokens + output_tokens),
        )
        message: dict[str, Any] = {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
        if not request.get("stream"):
            await _json_response(send, 200, json.dumps(message).encode(), (remaining,))
            return
        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        }
        events = [
            _named_event("message_start", {"type": "message_start", "message": start}),
            _named_event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            _named_event("ping", {"type": "ping"}),
        ]
        events += [
            _named_event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
            for piece in _words(text)
        ]
        events += [
            _named_event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            _named_event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": output_tokens},
                },
            ),
            _named_event("message_stop", {"type": "message_stop"}),
        ]
        await _stream(send, [*_SSE, remaining], events, pacing)

    async def _acme(
        self,
        path: str,
        method: str,
        query: str,
        request: Any,
        pacing: _Pacing,
        send: Send,
    ) -> None:
        keys = urllib.parse.parse_qs(query).get("key", [])
        if not keys or keys[-1] not in self.config.api_keys:
            await _error(send, 401, "bad key", _ACME)
            return
        if method != "POST":
            await _error(send, 405, f"method {method} not allowed", _ACME)
            return
        if not isinstance(request, dict):
            await _error(send, 400, "body must be a JSON object", _ACME)
            return
        engine = request.get("engine")
        prompt = request.get("input")
        if not isinstance(engine, str) or not engine:
            await _error(send, 400, "engine is required", _ACME)
            return
        if not isinstance(prompt, str):
            await _error(send, 400, "input is required", _ACME)
            return
        tokens_in = count_tokens(prompt)
        text = _reply(path, f"{engine} engine", prompt)
        tokens_out = count_tokens(text)
        total = tokens_in + tokens_out
        tail = {
            "meta": {"engine": f"{engine}-2026"},
            "billing": {"tokens": {"in": tokens_in, "out": tokens_out, "sum": total}},
        }
        left = (b"x-acme-tokens-left", _remaining(total))
        if not request.get("stream"):
            answer = {"output": {"text": text}, **tail}
            await _json_response(send, 200, json.dumps(answer).encode(), (left,))
            return
        events = [_data_event({"delta": {"text": piece}}) for piece in _words(text)]
        events.append(_data_event(tail))
        await _stream(send, [*_SSE, left], events, pacing)

    @staticmethod
    async def _models(send: Send) -> None:
        models = ["mock-model", "gpt-4o-mini", "mistral-small-latest"]
        body = json.dumps(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1700000000, "owned_by": "mock"}
                    for m in models
                ],
            }
        ).encode()
        await _json_response(send, 200, body)

    async def _control(self, path: str, method: str, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        if path == "/_mock/requests":
            if method == "GET":
                await _json_response(send, 200, json.dumps(list(self.requests)).encode())
                return
            if method == "DELETE":
                self.requests.clear()
                await _json_response(send, 200, b'{"cleared":true}')
                return
        if path == "/_mock/config":
            if method == "POST":
                try:
                    update = json.loads(body or b"{}")
                    if not isinstance(update, dict):
                        raise TypeError("not an object")
                    self._configure(update)
                except (ValueError, TypeError) as exc:
                    await _error(send, 400, f"Invalid config: {exc}")
                    return
            if method in ("POST", "GET"):
                await _json_response(send, 200, json.dumps(self._config_view()).encode())
                return
        await _error(send, 404, f"Unknown control path {method} {path}")

    def _configure(self, update: dict[str, Any]) -> None:
        """Validate the whole update first, so a bad one changes nothing."""
        settings = _parse_settings(update, strict=False)
        segments = _parse_segments(update["segments"]) if "segments" in update else None
        config = self.config
        if "latencyMs" in settings:
            config.latency_ms = settings["latencyMs"]
        if "failStatus" in settings:
            config.fail_status = settings["failStatus"]
        if "chunkDelayMs" in settings:
            config.chunk_delay_ms = settings["chunkDelayMs"]
        if "breakAfterChunks" in settings:
            config.break_after_chunks = settings["breakAfterChunks"]
        if "gzip" in settings:
            config.gzip = settings["gzip"]
        if segments is not None:
            config.segments = segments

    def _config_view(self) -> dict[str, Any]:
        return {
            "latencyMs": self.config.latency_ms,
            "failStatus": self.config.fail_status,
            "chunkDelayMs": self.config.chunk_delay_ms,
            "breakAfterChunks": self.config.break_after_chunks,
            "gzip": self.config.gzip,
            "segments": {name: dict(s) for name, s in self.config.segments.items()},
        }

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(config: MockConfig | None = None) -> MockProvider:
    return MockProvider(config or MockConfig())


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Mock AI provider (OpenAI, Anthropic, Acme)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--api-keys",
        default=os.environ.get("MOCK_PROVIDER_API_KEYS") or DEFAULT_API_KEYS,
        help="comma-separated accepted provider keys",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    config = MockConfig.from_keys(
        args.api_keys, latency_ms=args.latency_ms, chunk_delay_ms=args.chunk_delay_ms
    )
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
