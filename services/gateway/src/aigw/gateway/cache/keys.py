"""When two requests may share an answer.

Exact mode: the hash of the canonical request (method, provider path and query, the JSON body
without the fields that do not change the answer, the vendor headers the caller set),
partitioned by API, revision and key type and, for scope `application`, by the calling
application.

Semantic mode: the partition is the hash of everything but the last user message (the model,
the system prompt, the tools and response format, every earlier message, the embedding model
that compares them); within it, entries are compared by the similarity of the last user
message (`text`). A request whose last message is not a user's plain text has no key: the
cache stands aside (bypass) rather than guess.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aigw.common.response_cache import ResponseCache
from aigw.gateway.invocation import Invocation

# Body fields that change how an answer is delivered or attributed, not what it says
IGNORED_FIELDS = frozenset({"stream", "stream_options", "user"})
_DIGEST_CHARS = 48  # 192 bits of SHA-256, hex: a KV key's characters


@dataclass(frozen=True, slots=True)
class CacheKey:
    key: str  # the bucket key (a NATS subject token sequence: `x.<hash>` or `s.<hash>.<hash>`)
    partition: str  # semantic: the conversation's hash (exact: the key itself)
    text: str | None = None  # semantic: the last user message, to embed


def digest(value: Any) -> str:
    # ASCII: a lone surrogate in a caller's JSON (valid JSON, not UTF-8) is escaped, not an error
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:_DIGEST_CHARS]


def scope_of(call: Invocation, config: ResponseCache) -> str:
    """Whose answers a call may get: its application's only, or every caller's of the API."""
    if config.scope == "api":
        return "*"
    return call.entry.application_id if call.entry is not None else "-"


def cache_key(call: Invocation, config: ResponseCache, embedding_model: str) -> CacheKey | None:
    """The call's key, or None when it cannot be cached (not a JSON object body, or semantic
    mode without a last user message in plain text)."""
    body = call.parsed
    if call.method != "POST" or not isinstance(body, dict):
        return None
    request = {name: value for name, value in body.items() if name not in IGNORED_FIELDS}
    where = [*_answered_by(call), scope_of(call, config), call.method, call.rest, call.query]
    if config.mode == "exact":
        key = "x." + digest(["exact", *where, request])
        return CacheKey(key, key)
    split = last_user_text(request)
    if split is None:
        return None
    earlier, text = split
    partition = digest(["semantic", embedding_model, *where, earlier])
    return CacheKey(f"s.{partition}.{digest(text)[:32]}", partition, text)


def _answered_by(call: Invocation) -> list[Any]:
    """What decides who answers and in which shape, besides the body: the API's revision (a
    redeploy may move its endpoints or models), the key type (production and sandbox go to
    different endpoints and routing), and the vendor headers the caller set (an
    `anthropic-version` or a beta flag changes the answer's shape)."""
    route = call.route
    revision = route.revision if route is not None else 0
    key_type = call.entry.key_type if call.entry is not None else "-"
    vendor = route.vendor.caller_headers if route is not None else frozenset()
    headers = sorted([n, v] for n, v in call.headers if n.encode("latin-1") in vendor)
    return [call.api, revision, key_type, headers]


def last_user_text(request: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """(the request without its last message's text, that text) when the last message is a
    user's text (a string, or text parts only); else None."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return None
    last = messages[-1]
    if last.get("role") != "user":
        return None
    text = _text(last.get("content"))
    if not text:
        return None
    rest_of_last = {name: value for name, value in last.items() if name != "content"}
    return {**request, "messages": [*messages[:-1], rest_of_last]}, text


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    parts = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") != "text":
            return None  # an image or a file: similarity of the text alone would mislead
        if not isinstance(part.get("text"), str):
            return None
        parts.append(part["text"])
    return "\n".join(parts)
