"""The OpenAI API family's shared parts (also Mistral and Azure OpenAI): its error shape, its
key check (`Authorization: Bearer <key>` or `api-key: <key>`) and the small endpoints. The
chat completions format is `openai_chat`."""

import json

from aigw.devtools.mock_provider.asgi import Send, error_response, json_response
from aigw.devtools.mock_provider.call import Call, Handler

_ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}
_BAD_KEY = "Incorrect API key provided. You can find your API key at the provider console."
MODELS = ["mock-model", "gpt-4o-mini", "mistral-small-latest"]


def error_body(status: int, message: str) -> bytes:
    kind, code = _ERROR_TYPES.get(status, ("server_error" if status >= 500 else "api_error", None))
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code or str(status)}}
    ).encode()


async def error(send: Send, status: int, message: str) -> None:
    await error_response(send, error_body, status, message)


def authorised(call: Call) -> bool:
    headers = call.request.headers
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip() in call.api_keys:
        return True
    return headers.get("api-key", "") in call.api_keys


def with_key(handle: Handler) -> Handler:
    """`handle`, behind the key check every OpenAI path has (unknown paths included)."""

    async def checked(call: Call, send: Send) -> None:
        if not authorised(call):
            await error(send, 401, _BAD_KEY)
            return
        await handle(call, send)

    return checked


async def unknown_path(call: Call, send: Send) -> None:
    await error(send, 404, f"Unknown path {call.request.path}")


async def models(call: Call, send: Send) -> None:
    """`GET <any prefix>/models`: a model list."""
    if call.request.method != "GET":
        await unknown_path(call, send)
        return
    body = json.dumps(
        {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "mock"}
                for m in MODELS
            ],
        }
    ).encode()
    await json_response(send, 200, body)
