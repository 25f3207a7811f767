"""A vendor's metering rules, compiled once per deployed revision and applied on the hot path.

`Meter` reads what a vendor definition points at: the requested model from the request (body,
header or query parameter), the served model, token counts and remaining tokens from the
answer (body or header), and, for streams, the same per server-sent event plus the generated
text (for the first-token time and for estimates).

JSON answers up to `_PARSE_LIMIT` bytes are parsed whole (a few µs for a chat answer). Larger
ones (embeddings of long inputs) are not: for each path only the value after the last
occurrence of its first key is decoded, which is where OpenAI-style answers put `usage` and
never inside escaped strings (quotes there are escaped, so `"usage"` in the raw bytes is
always a key).
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aigw.common.jsonpath import JsonPath, compile_path
from aigw.common.vendors import Attribute, Metadata, StreamMetadata

_PARSE_LIMIT = 262_144
_DECODER = json.JSONDecoder()


@dataclass(slots=True)
class Usage:
    """What one call used. `reported`: the provider gave counts; `estimated`: the gateway
    had to estimate them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    served_model: str | None = None
    remaining_tokens: int | None = None
    reported: bool = False
    estimated: bool = False


def count(value: Any) -> int | None:
    """A token count: a non-negative int (or an int-valued float or numeric string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**18 else None
    if isinstance(value, float) and value.is_integer() and 0 <= value < 1e18:
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
    return None


@dataclass(frozen=True, slots=True)
class Source:
    """One compiled attribute: a JSONPath (`path`) or a header / query-parameter name."""

    kind: str  # "payload", "header" or "queryParameter"
    name: str  # lower-case header name, or query-parameter name
    path: JsonPath | None

    @classmethod
    def of(cls, attribute: Attribute | None) -> "Source | None":
        if attribute is None:
            return None
        identifier = attribute.attribute_identifier
        if attribute.input_source == "payload":
            return cls("payload", "", compile_path(identifier))
        name = identifier.lower() if attribute.input_source == "header" else identifier
        return cls(attribute.input_source, name, None)


def _stream_path(path: str | None, fallback: Source | None) -> JsonPath | None:
    if path is not None:
        return compile_path(path)
    return fallback.path if fallback is not None and fallback.kind == "payload" else None


class Meter:
    __slots__ = (
        "_completion",
        "_model",
        "_prompt",
        "_remaining",
        "_stream_completion",
        "_stream_model",
        "_stream_prompt",
        "_stream_total",
        "_total",
        "request_model",
        "stream_content",
    )

    def __init__(self, metadata: Metadata, stream: StreamMetadata) -> None:
        self.request_model = Source.of(metadata.request_model)
        self._model = Source.of(metadata.response_model)
        self._prompt = Source.of(metadata.prompt_token_count)
        self._completion = Source.of(metadata.completion_token_count)
        self._total = Source.of(metadata.total_token_count)
        self._remaining = Source.of(metadata.remaining_token_count)
        self._stream_model = _stream_path(stream.response_model, self._model)
        self._stream_prompt = _stream_path(stream.prompt_token_count, self._prompt)
        self._stream_completion = _stream_path(stream.completion_token_count, self._completion)
        self._stream_total = _stream_path(stream.total_token_count, self._total)
        self.stream_content = None if stream.content is None else compile_path(stream.content)

    # --- request ---------------------------------------------------------------------------

    def requested_model(
        self, parsed: Any, headers: Iterable[tuple[str, str]], query: str
    ) -> str | None:
        """The model the caller asked for (`headers`: the caller's, lower-case names)."""
        source = self.request_model
        if source is None:
            return None
        if source.path is not None:
            value = source.path.first(parsed)
        elif source.kind == "header":
            value = next((v for name, v in headers if name == source.name), None)
        else:
            value = dict(parse_qsl(query)).get(source.name)
        return value if isinstance(value, str) else None

    # --- a whole answer ----------------------------------------------------------------------

    def answer(self, body: bytes | None, headers: Mapping[str, str]) -> Usage:
        """Counts from a JSON answer (`body`, None if not JSON) and the response headers."""
        usage = Usage()
        document: Any = None
        if body is not None and len(body) <= _PARSE_LIMIT:
            try:
                document = json.loads(body)
            except (ValueError, RecursionError):  # not JSON, or nested past Python's limit
                body = None
        read = _Reader(document, body, headers)
        model = read(self._model)
        usage.served_model = model if isinstance(model, str) else None
        prompt, completion = count(read(self._prompt)), count(read(self._completion))
        total = count(read(self._total))
        if prompt is not None or completion is not None or total is not None:
            usage.reported = True
            usage.prompt_tokens, usage.completion_tokens = prompt or 0, completion or 0
            usage.total_tokens = total or usage.prompt_tokens + usage.completion_tokens
        usage.remaining_tokens = count(read(self._remaining))
        return usage

    def remaining(self, headers: Mapping[str, str]) -> int | None:
        source = self._remaining
        if source is None or source.kind != "header":
            return None
        return count(headers.get(source.name))

    # --- one server-sent event ----------------------------------------------------------------

    def event(self, data: Any, usage: Usage) -> None:
        """Take what one event's JSON `data` says; later values win (counts are cumulative)."""
        if self._stream_model is not None and usage.served_model is None:
            model = self._stream_model.first(data)
            if isinstance(model, str):
                usage.served_model = model
        found = False
        for path, field in (
            (self._stream_prompt, "prompt_tokens"),
            (self._stream_completion, "completion_tokens"),
            (self._stream_total, "total_tokens"),
        ):
            if path is not None and (value := count(path.first(data))) is not None:
                setattr(usage, field, value)
                found = True
        if found:
            usage.reported = True
            if self._stream_total is None or not usage.total_tokens:
                usage.total_tokens = usage.prompt_tokens + usage.completion_tokens

    def content(self, data: Any) -> int:
        """The number of generated characters in one event."""
        if self.stream_content is None:
            return 0
        return sum(len(text) for text in self.stream_content.find(data) if isinstance(text, str))


class _Reader:
    """Reads sources from one answer: the parsed document, or the raw bytes when too large."""

    __slots__ = ("_body", "_document", "_headers")

    def __init__(self, document: Any, body: bytes | None, headers: Mapping[str, str]) -> None:
        self._document, self._body, self._headers = document, body, headers

    def __call__(self, source: Source | None) -> Any:
        if source is None:
            return None
        if source.path is None:
            return self._headers.get(source.name) if source.kind == "header" else None
        if self._document is not None:
            return source.path.first(self._document)
        if self._body is None or not source.path.steps:
            return None
        first, rest = source.path.steps[0], source.path.steps[1:]
        if not isinstance(first, str):
            return None
        value = _value_after(self._body, json.dumps(first).encode())
        return JsonPath("", rest).first(value)


def _value_after(data: bytes, key: bytes) -> Any:
    at = data.rfind(key)
    if at < 0:
        return None
    colon = data.find(b":", at + len(key))
    if colon < 0:
        return None
    text = data[colon + 1 : colon + 1 + 4096].decode("utf-8", "replace").lstrip()
    try:
        return _DECODER.raw_decode(text)[0]
    except (ValueError, RecursionError):
        return None


def estimate_tokens(size: int) -> int:
    """About four bytes (or characters) of English per token: good enough for reservations
    and for calls whose provider never reported usage."""
    return (size + 3) // 4
