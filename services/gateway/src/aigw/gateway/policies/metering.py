"""Metering as a response policy: the vendor's rules read the served model and token counts
from a whole answer (its JSON body and headers) or from each event of a stream, without
changing or holding back anything.

It runs nearest the provider (last in the policies' order), so it reads the answer as the
provider sent it, before any other policy changes it (or drops the usage chunk).
"""

import time
import zlib

from aigw.gateway.invocation import Invocation, StreamStats
from aigw.gateway.metering.meter import Meter, Usage
from aigw.gateway.policies.base import PolicyRun, ResponseHead
from aigw.gateway.policies.sse import SseEvent

_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def usage_from_body(data: bytes, head: ResponseHead, meter: Meter) -> Usage:
    """What the vendor's metering finds in an answer: its headers, and its body if it is JSON
    (decompressed for reading if the provider compressed it)."""
    body: bytes | None = data if head.content_type.endswith("json") else None
    encoding = head.headers.get("content-encoding", "").lower()
    if body is not None and encoding in _DECODERS:
        try:
            body = zlib.decompress(body, _DECODERS[encoding])
        except zlib.error:
            body = None
    elif encoding not in ("", "identity"):
        body = None
    return meter.answer(body, head.headers)


class MeteringPolicy:
    name = "metering"

    def start(self, call: Invocation) -> PolicyRun | None:
        return _Metering(call.route.vendor.meter) if call.route is not None else None


class _Metering(PolicyRun):
    __slots__ = ("_call", "_head", "_meter", "_stats")

    def __init__(self, meter: Meter) -> None:
        self._meter = meter

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        self._call, self._head = call, head
        if head.content_type == "text/event-stream":
            self._stats = call.stream = StreamStats()
            self._stats.usage.remaining_tokens = self._meter.remaining(head.headers)
        return True

    async def on_body(self, body: bytes) -> bytes:
        self._call.usage = usage_from_body(body, self._head, self._meter)
        return body

    def on_event(self, event: SseEvent) -> None:
        chunk = event.json()
        if isinstance(chunk, dict):
            meter, stats = self._meter, self._stats
            meter.event(chunk, stats.usage)
            chars = meter.content(chunk)
            if chars:
                stats.content_chars += chars
                if stats.first_token_at is None:
                    stats.first_token_at = time.perf_counter()
