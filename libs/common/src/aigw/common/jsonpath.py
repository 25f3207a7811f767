"""The JSONPath subset vendor definitions use to say where a value lives in a JSON body.

Grammar: `$` followed by any number of steps, each one of
`.name`, `['name']` / `["name"]`, `[index]` (negative counts from the end), `[*]` or `.*`.
That covers where providers put models and token counts (`$.usage.prompt_tokens`,
`$.message.usage.input_tokens`, `$.choices[*].delta.content`) and compiles to a tuple of
steps that is cheap to evaluate on the gateway's hot path. Filters, slices and recursive
descent are refused with a message saying so: the publisher validates a path with the same
`compile_path` the gateway evaluates it with, so a path that is accepted always works.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

WILDCARD = object()  # the `[*]` step
Step = str | int | object

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"-?\d+")
MAX_PATH_LENGTH = 256


class JsonPathError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class JsonPath:
    text: str
    steps: tuple[Step, ...]

    def find(self, document: Any) -> Iterator[Any]:
        """Every value the path selects, in document order."""
        yield from _walk(document, self.steps, 0)

    def first(self, document: Any) -> Any:
        """The first value the path selects, or None."""
        node = document
        for step in self.steps:  # the common case, names only, without a generator
            if isinstance(step, str):
                if not isinstance(node, dict):
                    return None
                node = node.get(step)
                if node is None:
                    return None
            else:
                return next(self.find(document), None)
        return node


def _walk(node: Any, steps: tuple[Step, ...], at: int) -> Iterator[Any]:
    while at < len(steps):
        step = steps[at]
        if step is WILDCARD:
            children = node.values() if isinstance(node, dict) else node
            if not isinstance(node, (dict, list)):
                return
            for child in children:
                yield from _walk(child, steps, at + 1)
            return
        if isinstance(step, str):
            if not isinstance(node, dict) or step not in node:
                return
            node = node[step]
        else:
            assert isinstance(step, int)
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return
            node = node[step]
        at += 1
    yield node


def compile_path(text: str) -> JsonPath:
    """Parse `text`; raises JsonPathError saying what is wrong and where."""
    if len(text) > MAX_PATH_LENGTH:
        raise JsonPathError(f"a JSONPath may be at most {MAX_PATH_LENGTH} characters")
    if not text.startswith("$"):
        raise JsonPathError(f"JSONPath '{text}' must start with '$'")
    steps: list[Step] = []
    at = 1
    while at < len(text):
        if text.startswith("..", at):
            raise JsonPathError(f"JSONPath '{text}': recursive descent '..' is not supported")
        if text[at] == ".":
            if text.startswith(".*", at):
                steps.append(WILDCARD)
                at += 2
                continue
            match = _NAME.match(text, at + 1)
            if match is None:
                raise JsonPathError(f"JSONPath '{text}': expected a name after '.' at {at}")
            steps.append(match.group())
            at = match.end()
        elif text[at] == "[":
            step, at = _bracket(text, at)
            steps.append(step)
        else:
            raise JsonPathError(f"JSONPath '{text}': unexpected '{text[at]}' at {at}")
    return JsonPath(text, tuple(steps))


def _bracket(text: str, at: int) -> tuple[Step, int]:
    close = text.find("]", at)
    if close < 0:
        raise JsonPathError(f"JSONPath '{text}': '[' at {at} is not closed")
    inner = text[at + 1 : close]
    if inner == "*":
        return WILDCARD, close + 1
    if _INDEX.fullmatch(inner):
        return int(inner), close + 1
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
        name = inner[1:-1]
        if name and not any(c in name for c in "'\"\\"):
            return name, close + 1
    raise JsonPathError(
        f"JSONPath '{text}': '[{inner}]' is not supported "
        "(use ['name'], [index] or [*]; filters and slices are not supported)"
    )
