"""A mock AI provider speaking the OpenAI / Mistral / Azure OpenAI chat-completions wire format.

It is the benchmark baseline for the gateway, so it is a lean raw-ASGI app with no framework.

- `POST <any prefix>/chat/completions` (e.g. `/production/v1/chat/completions`,
  `/sandbox/chat/completions`, `/openai/deployments/{d}/chat/completions?api-version=...`):
  a deterministic `chat.completion`; with `"stream": true` a `text/event-stream` of
  `chat.completion.chunk` events, then (if `stream_options.include_usage`) a usage chunk,
  then `data: [DONE]`. The reply names the first path segment (`[production]`) so callers can
  tell which "endpoint" answered.
- `GET <any prefix>/models`: a model list.
- Auth: `Authorization: Bearer <key>` or `api-key: <key>` must be a configured key, else 401.
- Failure and latency control per request: `x-mock-latency-ms`, `x-mock-status`,
  `x-mock-chunk-delay-ms`; usage reporting per request with `x-mock-usage`: `omit` (no usage
  anywhere) or `final-chunk` (Mistral style: usage in the last content chunk, always); at runtime: `POST /_mock/config {"latencyMs","failStatus",
  "chunkDelayMs"}`, `GET /_mock/requests` (the last 100 requests), `DELETE /_mock/requests`.

Run: `python -m aigw.devtools.mock_provider --port 8090 [--api-keys k1,k2] [--latency-ms N]`
(keys also from `MOCK_PROVIDER_API_KEYS`).
"""

import argparse
import asyncio
import collections
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_API_KEYS = "mock-provider-key,mock-sandbox-key"
RECORDED_REQUESTS = 100

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


@dataclass
class MockConfig:
    api_keys: frozenset[str] = field(default_factory=lambda: frozenset(DEFAULT_API_KEYS.split(",")))
    latency_ms: float = 0.0
    fail_status: int | None = None
    chunk_delay_ms: float = 0.0

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


def _error_body(status: int, message: str) -> bytes:
    kind, code = _ERROR_TYPES.get(status, ("server_error" if status >= 500 else "api_error", None))
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code or str(status)}}
    ).encode()


async def _json_response(send: Send, status: int, body: bytes) -> None:
    headers = [*_JSON, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, message: str) -> None:
    await _json_response(send, status, _error_body(status, message))


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
        self.requests.append(
            {
                "method": method,
                "path": path,
                "query": scope.get("query_string", b"").decode("latin-1"),
                "headers": headers,
                "json": parsed,
            }
        )
        config = self.config
        latency = float(headers.get("x-mock-latency-ms", config.latency_ms) or 0)
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        status_header = headers.get("x-mock-status")
        fail_status = int(status_header) if status_header else config.fail_status
        if fail_status and fail_status >= 400:
            await _error(send, fail_status, f"Mock failure with status {fail_status}")
            return
        if not self._authorised(headers):
            await _error(
                send,
                401,
                "Incorrect API key provided. You can find your API key at the provider console.",
            )
            return
        if path.endswith("/chat/completions") or path == "/chat/completions":
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
            chunk_delay = float(headers.get("x-mock-chunk-delay-ms", config.chunk_delay_ms) or 0)
            usage_mode = headers.get("x-mock-usage", "")
            await self._chat(path, parsed, messages, chunk_delay, usage_mode, send)
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
        chunk_delay_ms: float,
        usage_mode: str,
        send: Send,
    ) -> None:
        endpoint = path.strip("/").split("/", 1)[0] or "root"
        model = str(request.get("model") or "mock-model")
        prompt = _message_text(messages)
        prompt_tokens = count_tokens(prompt)
        echo = " ".join(prompt.split()[:8])
        content = f"[{endpoint}] Mock reply from the {model} model to: {echo}"
        completion_tokens = count_tokens(content)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
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
            await _json_response(send, 200, json.dumps(answer).encode())
            return
        options = request.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        include_usage = include_usage and usage_mode == ""
        await send({"type": "http.response.start", "status": 200, "headers": _SSE})
        base = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_mock",
        }
        words = content.split(" ")
        pieces: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        pieces += [{"content": w if i == 0 else " " + w} for i, w in enumerate(words)]
        delay = chunk_delay_ms / 1000
        for delta in pieces:
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await self._event(send, chunk)
            if delay > 0:
                await asyncio.sleep(delay)
        last: dict[str, Any] = {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        if usage_mode == "final-chunk":
            last["usage"] = usage
        await self._event(send, last)
        if include_usage:
            await self._event(send, {**base, "choices": [], "usage": usage})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})

    @staticmethod
    async def _event(send: Send, chunk: dict[str, Any]) -> None:
        data = b"data: " + json.dumps(chunk).encode() + b"\n\n"
        await send({"type": "http.response.body", "body": data, "more_body": True})

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
        if "latencyMs" in update:
            self.config.latency_ms = float(update["latencyMs"] or 0)
        if "failStatus" in update:
            fail = update["failStatus"]
            self.config.fail_status = int(fail) if fail else None
        if "chunkDelayMs" in update:
            self.config.chunk_delay_ms = float(update["chunkDelayMs"] or 0)

    def _config_view(self) -> dict[str, Any]:
        return {
            "latencyMs": self.config.latency_ms,
            "failStatus": self.config.fail_status,
            "chunkDelayMs": self.config.chunk_delay_ms,
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

    parser = argparse.ArgumentParser(description="Mock OpenAI-compatible AI provider")
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
