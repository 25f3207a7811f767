"""The operations an API forwards (its vendor definition's paths and methods), compiled once per
deployed revision: a path without parameters is one dict lookup, a templated one a walk down a
small trie, literal segments before parameters (`/v1/models/{id}` does not shadow
`/v1/models/count`), a parameter matching exactly one non-empty segment."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Node:
    literals: dict[str, "_Node"] = field(default_factory=dict)
    parameter: "_Node | None" = None
    methods: frozenset[str] | None = None  # set where a template ends


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


class Operations:
    """`methods(path)`: the methods allowed on `path`, or None for a path the API lacks."""

    __slots__ = ("_exact", "_root", "_templated")

    def __init__(self, operations: Mapping[str, Sequence[str]]) -> None:
        exact: dict[str, set[str]] = {}
        root = _Node()
        for path, methods in operations.items():
            segments = path.split("/")[1:]
            if not any(_is_parameter(s) for s in segments):
                exact.setdefault(path, set()).update(m.upper() for m in methods)
                continue
            node = root
            for segment in segments:
                if _is_parameter(segment):
                    node.parameter = node.parameter or _Node()
                    node = node.parameter
                else:
                    node = node.literals.setdefault(segment, _Node())
            node.methods = (node.methods or frozenset()) | {m.upper() for m in methods}
        self._exact = {path: frozenset(methods) for path, methods in exact.items()}
        self._root = root
        self._templated = root.parameter is not None or bool(root.literals)

    def methods(self, path: str) -> frozenset[str] | None:
        found = self._exact.get(path)
        if found is not None or not self._templated or not path.startswith("/"):
            return found
        return _walk(self._root, path.split("/"), 1)

    def __bool__(self) -> bool:
        return bool(self._exact) or self._templated


def _walk(node: _Node, segments: list[str], index: int) -> frozenset[str] | None:
    if index == len(segments):
        return node.methods
    segment = segments[index]
    child = node.literals.get(segment)
    if child is not None:
        found = _walk(child, segments, index + 1)
        if found is not None:
            return found
    if node.parameter is not None and segment:
        return _walk(node.parameter, segments, index + 1)
    return None


NO_OPERATIONS = Operations({})
