"""The ASGI app: record the request, apply the controls and faults, then let the wire format
whose route matches the path answer. Every API answer carries the mock's own request id
(`x-request-id: req_<hex>`), as OpenAI's and Mistral's do."""

import collections
import json
import os
from typing import Any

from aigw.devtools.mock_provider import (
    acme_generate,
    anthropic_messages,
    control,
    faults,
    openai_api,
    openai_chat,
    openai_embeddings,
)
from aigw.devtools.mock_provider.asgi import Message, Receive, Scope, Send, lifespan, read_body
from aigw.devtools.mock_provider.call import Call, Request, Route
from aigw.devtools.mock_provider.config import MockConfig
from aigw.devtools.mock_provider.encoding import accepts_gzip, gzipped

RECORDED_REQUESTS = 100

ROUTES: tuple[Route, ...] = (
    Route("/v1/messages", anthropic_messages.error_body, anthropic_messages.handle),
    Route("/acme/generate", acme_generate.error_body, acme_generate.handle),
    Route("/chat/completions", openai_api.error_body, openai_api.with_key(openai_chat.handle)),
    Route("/models", openai_api.error_body, openai_api.with_key(openai_api.models)),
    Route("/embeddings", openai_api.error_body, openai_api.with_key(openai_embeddings.handle)),
)
"""The first route whose suffix ends the path answers (any prefix: `/production/v1/...`)."""

UNMATCHED = Route("", openai_api.error_body, openai_api.with_key(openai_api.unknown_path))
CONTROL_PREFIX = "/_mock/"


def route_for(path: str) -> Route:
    for route in ROUTES:
        if path.endswith(route.suffix):
            return route
    return UNMATCHED


async def _read(scope: Scope, receive: Receive) -> Request:
    body = await read_body(receive)
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
    return Request(scope["method"], scope["path"], query, headers, parsed, bad_json)


class MockProvider:
    """The ASGI app. `config` may be changed at runtime through `POST /_mock/config`."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.requests: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=RECORDED_REQUESTS
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
        elif scope["type"] != "http":
            return
        elif scope["path"].startswith(CONTROL_PREFIX):
            path, method = scope["path"], scope["method"]
            await control.serve(self, path, method, receive, send, openai_api.error_body)
        else:
            request = await _read(scope, receive)
            self.requests.append(request.record())
            await self._answer(request, receive, send)

    async def _answer(self, request: Request, receive: Receive, send: Send) -> None:
        send = _with_request_id(send)
        route = route_for(request.path)
        controls = control.configured(self.config, request.path)
        if controls.gzip and accepts_gzip(request.headers.get("accept-encoding", "")):
            send = gzipped(send)
        if await faults.inject(controls, request.headers, route.errors, send):
            return
        pacing = control.pacing(controls, request.headers, receive)
        await route.handle(Call(request, self.config.api_keys, pacing), send)


def _with_request_id(send: Send) -> Send:
    header = (b"x-request-id", b"req_" + os.urandom(12).hex().encode())

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), header]}
        await send(message)

    return sending


def create_app(config: MockConfig | None = None) -> MockProvider:
    return MockProvider(config or MockConfig())
