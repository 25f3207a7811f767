"""JSON merge patch (RFC 7396): what `PATCH /apis/{id}` applies to the API as PUT would send it."""

from typing import Any

MEDIA_TYPE = "application/merge-patch+json"


def merge_patch(target: Any, patch: Any) -> Any:
    """`target` with `patch` applied: members of a patch object replace the target's (objects
    merge recursively), null removes a member, anything that is not an object (an array, a
    string, ...) replaces the target whole. Neither argument is modified."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged
