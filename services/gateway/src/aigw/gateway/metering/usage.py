"""Token counts and the served model, read from a provider's answer.

A JSON answer is not parsed as a whole: only the value after its `"model"` key (the first,
top-level in OpenAI-style answers) and after its last `"usage"` key are decoded. Inside JSON
strings quotes are escaped, so `"usage"` found in the raw bytes is always a key.
"""

import json
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()


@dataclass(slots=True)
class Usage:
    """What one call used. `estimated` is set when the provider gave no counts."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    served_model: str | None = None
    reported: bool = False
    estimated: bool = False

    def take(self, usage: Any) -> None:
        """Adopt a provider `usage` object (ignores anything not shaped like one)."""
        if not isinstance(usage, dict):
            return
        prompt = _count(usage.get("prompt_tokens"))
        completion = _count(usage.get("completion_tokens"))
        self.prompt_tokens, self.completion_tokens = prompt, completion
        self.total_tokens = _count(usage.get("total_tokens")) or prompt + completion
        self.reported = True


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _value_after(data: bytes, key: bytes, last: bool) -> Any:
    at = data.rfind(key) if last else data.find(key)
    if at < 0:
        return None
    colon = data.find(b":", at + len(key))
    if colon < 0:
        return None
    text = data[colon + 1 : colon + 1 + 4096].decode("utf-8", "replace").lstrip()
    try:
        return _DECODER.raw_decode(text)[0]
    except ValueError:
        return None


def from_json(data: bytes) -> Usage:
    usage = Usage()
    model = _value_after(data, b'"model"', last=False)
    if isinstance(model, str):
        usage.served_model = model
    usage.take(_value_after(data, b'"usage"', last=True))
    return usage


def estimate_tokens(size: int) -> int:
    """About four bytes (or characters) of English per token: good enough for reservations
    and for calls whose provider never reported usage."""
    return (size + 3) // 4
