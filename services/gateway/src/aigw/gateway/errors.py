"""Gateway errors in the OpenAI envelope: `{"error": {"message", "type", "code"}}`.

OpenAI-compatible SDKs read this shape, so a caller sees the gateway's 401/403/404/502/504 the
same way it would see the provider's own errors.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aigw.gateway.asgi import Send

_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    408: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    431: "invalid_request_error",
    503: "api_error",
}


class Refused(Exception):
    """A request the gateway answers itself, with `status` and an OpenAI-style error;
    `error_type` overrides the error's `type`, `details` are members beside `error` (a
    guardrail's assessment)."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        headers: Sequence[tuple[bytes, bytes]] = (),
        *,
        error_type: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers  # e.g. Retry-After and x-ratelimit-* on a 429
        self.error_type = error_type
        self.details = details

    def body(self) -> bytes:
        return error_body(self.status, self.message, self.code, self.error_type, self.details)


def error_body(
    status: int,
    message: str,
    code: str,
    error_type: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> bytes:
    error = {
        "message": message,
        "type": error_type or _TYPES.get(status, "api_error"),
        "code": code,
    }
    return json.dumps({"error": error, **details} if details else {"error": error}).encode()


async def send_refusal(
    send: Send, refused: Refused, extra_headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    await send_body(send, refused.status, refused.body(), extra_headers)


async def send_error(
    send: Send,
    status: int,
    message: str,
    code: str,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    await send_body(send, status, error_body(status, message, code), extra_headers)


async def send_body(
    send: Send, status: int, body: bytes, extra_headers: Sequence[tuple[bytes, bytes]]
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
