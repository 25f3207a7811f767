"""API contexts and the gateway route prefix they resolve to.

A context is `mistralaiapi` or `{version}/mistralaiapi`: slash-separated segments of URL-safe
characters, optionally with the `{version}` placeholder once. Without the placeholder the
gateway serves the API under `<context>/<version>`; with it, the version takes its place.
The resolved prefix is what must be unique across APIs, so it doubles as the unique route key.
"""

import re

VERSION_PLACEHOLDER = "{version}"
MAX_CONTEXT_LENGTH = 200

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


def route_prefix(context: str, version: str) -> str:
    """Where the gateway serves the API, e.g. 'mistralaiapi/0.0.2' or '0.0.2/mistralaiapi'."""
    segments = context.split("/")
    if VERSION_PLACEHOLDER not in segments:
        return f"{context}/{version}"
    return "/".join(version if s == VERSION_PLACEHOLDER else s for s in segments)
