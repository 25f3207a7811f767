"""Sending a routing target's model in place of the caller's, where the vendor's
`requestModel` says the model is (a body path, a header or a query parameter)."""

import json
from typing import Any

from aigw.common.jsonpath import JsonPath


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


def serialise(parsed: dict[str, Any]) -> bytes:
    return json.dumps(parsed, separators=(",", ":")).encode()
