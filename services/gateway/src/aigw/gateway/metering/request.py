"""What metering and quotas need from a JSON request body, read from the one parse the gateway
already does, and the two rewrites it ever makes: asking a streaming provider for usage, and
(multi-model routing) sending the chosen target's model."""

import json
from dataclasses import dataclass
from typing import Any

from aigw.common.jsonpath import JsonPath

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


def facts(parsed: Any, model: str | None) -> RequestFacts:
    """The request's facts; `model` is the requested model as the vendor's metering found it."""
    if not isinstance(parsed, dict):
        return NO_FACTS if model is None else RequestFacts(model=model)
    options = parsed.get("stream_options")
    limit = _int_or_none(parsed.get("max_completion_tokens")) or _int_or_none(
        parsed.get("max_tokens")
    )
    return RequestFacts(
        model=model,
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
    return serialise(parsed, include_usage=True)


def can_set_model(parsed: Any, path: JsonPath) -> bool:
    """Whether `path` (names only) names a place in this body: every step before the last is
    an object."""
    steps = path.steps
    if not isinstance(parsed, dict) or not steps or not all(isinstance(s, str) for s in steps):
        return False
    node: Any = parsed
    for step in steps[:-1]:
        node = node.get(step)
        if not isinstance(node, dict):
            return False
    return True


def with_model(parsed: Any, path: JsonPath, model: str) -> dict[str, Any] | None:
    """A copy of `parsed` with the value at `path` set to `model`; only the dicts along the
    path are copied. None if the path does not name a place in this body."""
    if not can_set_model(parsed, path):
        return None
    root = node = dict(parsed)
    *parents, last = path.steps
    for step in parents:
        node[step] = node = dict(node[step])
    node[last] = model
    return root


def serialise(parsed: dict[str, Any], include_usage: bool) -> bytes:
    """A rewritten body, with `stream_options.include_usage` added if asked."""
    if include_usage:
        options = parsed.get("stream_options")
        merged = {**(options if isinstance(options, dict) else {}), "include_usage": True}
        parsed = {**parsed, "stream_options": merged}
    return json.dumps(parsed, separators=(",", ":")).encode()
