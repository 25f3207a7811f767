"""Where a guardrail's text is in a call's JSON, per wire format, and how to rewrite it.

A route's vendor says its format: Anthropic's Messages API (`/v1/messages`) or the OpenAI
shape every other built-in vendor speaks. Defaults (a guardrail's `jsonPath` replaces the
request's or the JSON answer's; streams always read the format's delta text):

| format    | request                                 | answer                        | stream delta                  |
|-----------|-----------------------------------------|-------------------------------|-------------------------------|
| OpenAI    | `$.messages[*].content`, `$.prompt`,    | `$.choices[*].message.content`| `$.choices[*].delta.content`, |
|           | `$.suffix`, `$.input`                   | `$.choices[*].text`           | `$.choices[*].text`           |
| Anthropic | `$.system`, `$.messages[*].content`     | `$.content[*].text`           | `$.delta.text`                |

A selected value that is a string is text; in a list, strings, text parts (`{"type": "text",
"text"}`, as both formats' multi-part content has them) and the content of tool results are
too; anything else is not text.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from aigw.common.jsonpath import WILDCARD, JsonPath, Step, compile_path
from aigw.gateway.routing.table import Route

WireFormat = Literal["openai", "anthropic"]
Rewrite = Callable[[str], str]

_DEFAULTS: dict[WireFormat, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # besides chat: the completions (`prompt`, `suffix`: FIM), embeddings and moderations
    # (`input`) bodies and the completions answer (`choices[*].text`), so another operation
    # of the same API is no way around a guardrail
    "openai": (
        ("$.messages[*].content", "$.prompt", "$.suffix", "$.input"),
        ("$.choices[*].message.content", "$.choices[*].text"),
        ("$.choices[*].delta.content", "$.choices[*].text"),
    ),
    "anthropic": (("$.system", "$.messages[*].content"), ("$.content[*].text",), ("$.delta.text",)),
}


def wire_format(route: Route) -> WireFormat:
    vendor = route.vendor
    content = vendor.meter.stream_content
    if vendor.name.lower() == "anthropic" or (
        content is not None and content.text == "$.delta.text"
    ):
        return "anthropic"
    return "openai"


@dataclass(frozen=True, slots=True)
class Selector:
    """The text at some JSONPaths of a document."""

    paths: tuple[JsonPath, ...]

    def texts(self, document: Any) -> list[str]:
        return [
            text for path in self.paths for value in path.find(document) for text in _texts(value)
        ]

    def text(self, document: Any) -> str | None:
        """The selected texts joined by newlines; None when nothing is selected."""
        texts = self.texts(document)
        return "\n".join(texts) if texts else None

    def replace(self, document: Any, rewrite: Rewrite) -> Any:
        """`document` with every selected text rewritten (copied where changed, the rest
        shared)."""
        for path in self.paths:
            document = _replace(document, path.steps, rewrite)
        return document


@dataclass(frozen=True, slots=True)
class Selectors:
    """A guardrail's selectors on one route."""

    request: Selector
    answer: Selector
    stream: Selector


def selectors(route: Route, json_path: str | None) -> Selectors:
    request, answer, stream = (_selector(paths) for paths in _DEFAULTS[wire_format(route)])
    if json_path is not None:
        request = answer = _selector((json_path,))
    return Selectors(request, answer, stream)


def _selector(paths: tuple[str, ...]) -> Selector:
    return Selector(tuple(compile_path(path) for path in paths))


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for part in value:
            if isinstance(part, str):  # `prompt` / `input` as a list of strings
                yield part
            elif _is_text_part(part):
                yield part["text"]
            elif _is_tool_result(part):  # what a tool answered goes to the model too
                yield from _texts(part["content"])


def _is_text_part(part: Any) -> bool:
    return (
        isinstance(part, dict)
        and isinstance(part.get("text"), str)
        and part.get("type", "text") == "text"
    )


def _is_tool_result(part: Any) -> bool:
    return (
        isinstance(part, dict)
        and part.get("type") == "tool_result"
        and isinstance(part.get("content"), str | list)
    )


def _rewritten(value: Any, rewrite: Rewrite) -> Any:
    if isinstance(value, str):
        return rewrite(value)
    if isinstance(value, list):
        return [_rewritten_part(part, rewrite) for part in value]
    return value


def _rewritten_part(part: Any, rewrite: Rewrite) -> Any:
    if isinstance(part, str):
        return rewrite(part)
    if _is_text_part(part):
        return {**part, "text": rewrite(part["text"])}
    if _is_tool_result(part):
        return {**part, "content": _rewritten(part["content"], rewrite)}
    return part


def _replace(node: Any, steps: tuple[Step, ...], rewrite: Rewrite) -> Any:
    if not steps:
        return _rewritten(node, rewrite)
    step, rest = steps[0], steps[1:]
    if step is WILDCARD:
        if isinstance(node, list):
            return [_replace(child, rest, rewrite) for child in node]
        if isinstance(node, dict):
            return {key: _replace(child, rest, rewrite) for key, child in node.items()}
        return node
    if isinstance(step, str):
        if isinstance(node, dict) and step in node:
            return {**node, step: _replace(node[step], rest, rewrite)}
        return node
    assert isinstance(step, int)
    if isinstance(node, list) and -len(node) <= step < len(node):
        copy = list(node)
        copy[step] = _replace(node[step], rest, rewrite)
        return copy
    return node


def first_only(text: str) -> Rewrite:
    """A rewrite that puts `text` in the first selected place and empties the others (a
    stream event's delta, when several places are selected)."""
    given = [False]

    def rewrite(_old: str) -> str:
        if given[0]:
            return ""
        given[0] = True
        return text

    return rewrite
