"""W3C trace context (https://www.w3.org/TR/trace-context/): the `traceparent` header.

    traceparent: 00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>

Only version 00 is written; a later version is read by its first four fields, as the
recommendation asks. An all-zero id, a malformed header or an unknown field count is no
parent at all (the call starts a trace of its own). `tracestate` is not kept.
"""

from dataclasses import dataclass

HEADER = "traceparent"
HEADER_RAW = b"traceparent"
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: int
    span_id: int
    sampled: bool

    def header(self) -> str:
        return format_traceparent(self.trace_id, self.span_id, self.sampled)


def format_traceparent(trace_id: int, span_id: int, sampled: bool) -> str:
    return f"00-{trace_id:032x}-{span_id:016x}-{'01' if sampled else '00'}"


def parse_traceparent(value: str | bytes | None) -> TraceContext | None:
    """The parent a `traceparent` header names, or None if it names none validly."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    parts = text.strip().split("-")
    if len(parts) < 4:
        return None
    version, trace, span, flags = parts[0], parts[1], parts[2], parts[3]
    if len(version) != 2 or version == "ff" or not set(version) <= _HEX:
        return None
    if version == "00" and len(parts) != 4:
        return None
    if len(trace) != 32 or len(span) != 16 or len(flags) != 2:
        return None
    if not set(trace + span + flags) <= _HEX:  # lower case only, as the recommendation says
        return None
    trace_id, span_id = int(trace, 16), int(span, 16)
    if trace_id == 0 or span_id == 0:
        return None
    return TraceContext(trace_id, span_id, bool(int(flags, 16) & 1))
