"""What the services' tracing tests share (devportal, gateway, keymanager): OTLP's span kinds,
the trace context a caller's request arrives with, the W3C `traceparent` a span's context
makes, and the spans of one trace once the collector (the `collector` fixture) has them."""

from aigw.devtools.otlp_collector import CollectedSpan, OtlpCollector
from tests.support.waiting import eventually

SERVER, CLIENT = 2, 3  # OTLP's SpanKind numbers
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def traceparent(trace_id: str, span_id: str) -> str:
    """The W3C `traceparent` header of a sampled span."""
    return f"00-{trace_id}-{span_id}-01"


def from_caller() -> dict[str, str]:
    """A request's headers as a traced caller sends them: its span is CALLER_SPAN, in
    CALLER_TRACE."""
    return {"traceparent": traceparent(CALLER_TRACE, CALLER_SPAN)}


async def spans_of_trace(
    collector: OtlpCollector, trace_id: str, count: int = 1
) -> list[CollectedSpan]:
    """The trace's spans, once the collector has at least `count` of them."""
    return await eventually(
        lambda: collector.trace(trace_id), lambda found: len(found) >= count, timeout=10
    )
