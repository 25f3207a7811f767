"""API contexts and the gateway route prefix they resolve to.

A context is `mistralaiapi` or `{version}/mistralaiapi`: slash-separated segments of URL-safe
characters, optionally with the `{version}` placeholder once. Without the placeholder the
gateway serves the API under `<context>/<version>`; with it, the version takes its place.
The resolved prefix is what must be unique across APIs, so it doubles as the unique route key.
"""

import re

VERSION_PLACEHOLDER = "{version}"
MAX_CONTEXT_LENGTH = 200
# The gateway serves these itself (health checks, metrics, its OpenAPI docs): an API whose
# route started with one would be shadowed by them.
RESERVED_FIRST_SEGMENTS = frozenset({"health", "metrics", "docs", "openapi.json", "redoc"})

_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_VERSION = re.compile(r"[A-Za-z0-9._-]{1,30}")


def normalize_context(context: str) -> str:
    """The context as stored: one leading slash is accepted (and dropped), anything odd is not."""
    value = context.removeprefix("/")
    if not value:
        raise ValueError("context must not be empty")
    if len(value) > MAX_CONTEXT_LENGTH:
        raise ValueError(f"context must be at most {MAX_CONTEXT_LENGTH} characters")
    segments = value.split("/")
    for segment in segments:
        _check_segment(segment)
    if segments.count(VERSION_PLACEHOLDER) > 1:
        raise ValueError(f"context may contain {VERSION_PLACEHOLDER} only once")
    return value


def _check_segment(segment: str) -> None:
    if segment == VERSION_PLACEHOLDER:
        return
    if not segment:
        raise ValueError("context must not contain empty segments ('//' or a trailing '/')")
    if segment in {".", ".."}:
        raise ValueError("context must not contain '.' or '..' segments")
    if not _SEGMENT.fullmatch(segment):
        raise ValueError(
            f"context segment {segment!r} may only contain letters, digits, '.', '_', '-' "
            f"(or be the {VERSION_PLACEHOLDER} placeholder)"
        )


def check_version(version: str) -> str:
    if not _VERSION.fullmatch(version) or version in {".", ".."}:
        raise ValueError("version must be 1-30 characters of letters, digits, '.', '_', '-'")
    return version


def check_route_prefix(prefix: str) -> str:
    """Refuse a route the gateway's own paths would shadow (compared case-insensitively)."""
    first = prefix.split("/", 1)[0]
    if first.lower() in RESERVED_FIRST_SEGMENTS:
        reserved = ", ".join(f"/{s}" for s in sorted(RESERVED_FIRST_SEGMENTS))
        raise ValueError(
            f"the API would be served under /{first}, which is reserved: "
            f"{reserved} are the gateway's own paths"
        )
    return prefix


def route_prefix(context: str, version: str) -> str:
    """Where the gateway serves the API, e.g. 'mistralaiapi/0.0.2' or '0.0.2/mistralaiapi'."""
    segments = context.split("/")
    if VERSION_PLACEHOLDER not in segments:
        return f"{context}/{version}"
    return "/".join(version if s == VERSION_PLACEHOLDER else s for s in segments)
