"""What metering and quotas need from a JSON request body, read from the one parse the gateway
already does, and the one rewrite it ever makes: asking a streaming provider for usage."""

import json
from dataclasses import dataclass
from typing import Any

_INCLUDE_USAGE = b',"stream_options":{"include_usage":true}}'


@dataclass(frozen=True, slots=True)
class RequestFacts:
    model: str | None = None
    stream: bool = False
    wants_usage: bool = False  # the caller asked for the usage chunk itself
    max_completion_tokens: int | None = None


NO_FACTS = RequestFacts()


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def facts(parsed: Any) -> RequestFacts:
    if not isinstance(parsed, dict):
        return NO_FACTS
    model = parsed.get("model")
    options = parsed.get("stream_options")
    limit = _int_or_none(parsed.get("max_completion_tokens")) or _int_or_none(
        parsed.get("max_tokens")
    )
    return RequestFacts(
        model=model if isinstance(model, str) else None,
        stream=parsed.get("stream") is True,
        wants_usage=isinstance(options, dict) and options.get("include_usage") is True,
        max_completion_tokens=limit,
    )


def with_include_usage(body: bytes, parsed: dict[str, Any]) -> bytes:
    """The body with `stream_options.include_usage` set. Without `stream_options` the field is
    spliced in before the closing brace (the caller's bytes stay as they were); otherwise the
    body is re-serialised with the option added."""
    if "stream_options" not in parsed:
        end = body.rstrip()
        if end.endswith(b"}"):
            return end[:-1].rstrip() + _INCLUDE_USAGE  # `stream` is there: never empty
    options = parsed.get("stream_options")
    merged = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return json.dumps({**parsed, "stream_options": merged}, separators=(",", ":")).encode()
