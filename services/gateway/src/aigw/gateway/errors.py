"""Gateway errors in the OpenAI envelope: `{"error": {"message", "type", "code"}}`.

OpenAI-compatible SDKs read this shape, so a caller sees the gateway's 401/403/404/502/504 the
same way it would see the provider's own errors.
"""

import json
from collections.abc import Sequence

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
    """A request the gateway answers itself, with `status` and an OpenAI-style error."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers  # e.g. Retry-After and x-ratelimit-* on a 429


def error_body(status: int, message: str, code: str) -> bytes:
    kind = _TYPES.get(status, "api_error")
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


async def send_error(
    send: Send,
    status: int,
    message: str,
    code: str,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    body = error_body(status, message, code)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
