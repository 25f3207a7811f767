"""The request body: read whole (bounded), checked if it says it is JSON, and what metering and
quotas need from it (the requested model, `stream`, `max_tokens`).

A body sent as `application/json` or `+json` is parsed once, to refuse invalid JSON and to read
those facts; multipart, binary and empty bodies are forwarded as they are, unread.
"""

import json
from typing import Any

from aigw.gateway.asgi import Receive
from aigw.gateway.errors import Refused
from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.request import facts


class ClientGone(Exception):
    """The client disconnected before the gateway answered."""


async def read_body(call: Invocation, receive: Receive, max_bytes: int) -> None:
    """Read, check and note the body on `call` (413 past `max_bytes`, 400 for bad JSON)."""
    assert call.route is not None
    body = call.body = await _read(receive, max_bytes)
    call.body_size = len(body)
    call.parsed = parsed = parse_json(body, call.content_type)
    model = call.route.vendor.meter.requested_model(parsed, call.headers, call.query)
    call.facts = facts(parsed, model)


async def _read(receive: Receive, max_bytes: int) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if message["type"] == "http.disconnect":
            raise ClientGone
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
        return body
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> Refused:
    return Refused(413, f"Request bodies are limited to {max_bytes} bytes.", "too_large")


def _is_json(content_type: bytes | None) -> bool:
    """`application/json` or a `+json` media type, parameters and case aside."""
    if content_type is None:
        return False
    media = content_type.partition(b";")[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def parse_json(body: bytes, content_type: bytes | None) -> Any:
    """The parsed body; refuse a non-empty body that says it is JSON and is not. Anything else
    (multipart audio uploads, empty POSTs like `/v1/batches/{id}/cancel`, binary files) is
    forwarded as is (None)."""
    if body and _is_json(content_type):
        try:
            return json.loads(body)
        except ValueError:
            raise Refused(400, "The request body is not valid JSON.", "invalid_json") from None
        except RecursionError:
            raise Refused(400, "The request body is nested too deeply.", "invalid_json") from None
    return None
