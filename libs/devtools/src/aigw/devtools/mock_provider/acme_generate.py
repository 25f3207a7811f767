"""The made-up Acme vendor (`POST <any prefix>/acme/generate?key=<key>`), whose token counts sit
in unusual places (a gateway must be told JSONPaths to meter it): body `{"engine", "input",
"stream"?}`; answers `{"output": {"text"}, "meta", "billing": {"tokens": {"in", "out", "sum"}}}`,
streamed as `data: {"delta": {"text"}}` events then one `{"meta", "billing"}` event (no
[DONE]). Errors are `{"fault": {"reason": ...}}`."""

import json
import urllib.parse
from typing import Any

from aigw.devtools.mock_provider import sse
from aigw.devtools.mock_provider.asgi import Send, error_response, json_response
from aigw.devtools.mock_provider.call import Call
from aigw.devtools.mock_provider.content import count_tokens, remaining, reply, words


def error_body(status: int, message: str) -> bytes:
    return json.dumps({"fault": {"reason": message}}).encode()


def _problem(call: Call) -> tuple[int, str] | None:
    request = call.request
    keys = urllib.parse.parse_qs(request.query).get("key", [])
    if not keys or keys[-1] not in call.api_keys:
        return 401, "bad key"
    if request.method != "POST":
        return 405, f"method {request.method} not allowed"
    body = request.json
    if not isinstance(body, dict):
        return 400, "body must be a JSON object"
    engine = body.get("engine")
    if not isinstance(engine, str) or not engine:
        return 400, "engine is required"
    if not isinstance(body.get("input"), str):
        return 400, "input is required"
    return None


async def handle(call: Call, send: Send) -> None:
    problem = _problem(call)
    if problem:
        await error_response(send, error_body, *problem)
        return
    body: dict[str, Any] = call.request.json
    engine: str = body["engine"]
    prompt: str = body["input"]
    tokens_in = count_tokens(prompt)
    text = reply(call.request.path, f"{engine} engine", prompt)
    tokens_out = count_tokens(text)
    total = tokens_in + tokens_out
    tail = {
        "meta": {"engine": f"{engine}-2026"},
        "billing": {"tokens": {"in": tokens_in, "out": tokens_out, "sum": total}},
    }
    headers = [(b"x-acme-tokens-left", remaining(total))]
    if not body.get("stream"):
        answer = {"output": {"text": text}, **tail}
        await json_response(send, 200, json.dumps(answer).encode(), headers)
        return
    events = [sse.data_event({"delta": {"text": piece}}) for piece in words(text)]
    events.append(sse.data_event(tail))
    await sse.stream(send, [*sse.SSE_HEADERS, *headers], events, call.pacing)
