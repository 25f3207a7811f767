"""Asking an OpenAI-style provider for a stream's usage, and hiding the extra chunk.

A streaming call that did not ask for `stream_options.include_usage` gets it added (the one
request rewrite metering needs: without it the provider reports no token counts), and the
usage-only event that answer then carries (`"choices": []` with `usage`) is dropped from what
the caller receives, after metering (nearer the provider) has read it. A caller that asked
for usage itself gets the stream untouched.
"""

import json
from collections.abc import Sequence
from typing import Any

from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import PolicyRun, ResponseHead
from aigw.gateway.policies.sse import SseEvent

_INCLUDE_USAGE = b',"stream_options":{"include_usage":true}}'


def with_include_usage(body: bytes, parsed: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The body, and its parsed form, with `stream_options.include_usage` set. Without
    `stream_options` the field is spliced in before the closing brace (the caller's bytes stay
    as they were); otherwise the body is re-serialised with the option added."""
    options = parsed.get("stream_options")
    merged = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    rewritten = {**parsed, "stream_options": merged}
    if "stream_options" not in parsed:
        end = body.rstrip()
        if end.endswith(b"}"):
            return end[:-1].rstrip() + _INCLUDE_USAGE, rewritten  # `stream` is there: never empty
    return json.dumps(rewritten, separators=(",", ":")).encode(), rewritten


class StreamUsagePolicy:
    name = "stream-usage"

    def start(self, call: Invocation) -> PolicyRun | None:
        facts, route = call.facts, call.route
        asks = route is not None and route.vendor.ask_stream_usage
        if asks and facts.stream and not facts.wants_usage and isinstance(call.parsed, dict):
            return _UsageChunkHidden()
        return None


class _UsageChunkHidden(PolicyRun):
    rewrites_stream = True

    async def on_request(self, call: Invocation) -> None:
        body, parsed = with_include_usage(call.body, call.parsed)
        call.replace_json(parsed, body)

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        return head.status < 300 and head.content_type == "text/event-stream"

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        chunk = event.json()
        if isinstance(chunk, dict) and chunk.get("usage") is not None and not chunk.get("choices"):
            return ()
        return None
