"""What metering and quotas need from a JSON request body, read from the one parse the gateway
already does."""

from dataclasses import dataclass
from typing import Any


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
