"""The tracer: ids, the sampling decision, and the exporter spans end in.

Sampling is OpenTelemetry's `parentbased_traceidratio`: a call with a valid incoming
`traceparent` follows the caller's sampled flag; any other call is sampled when the lower 64
bits of its new trace id fall below `ratio` of their range (so every service decides the same
for the same trace). An unsampled call gets no span at all (`start` answers None).
"""

import random
import time
from typing import Protocol

from aigw.common.tracing.context import TraceContext
from aigw.common.tracing.spans import Attributes, Span

_LOW_64 = (1 << 64) - 1


class SpanSink(Protocol):
    def add(self, span: Span) -> None: ...

    def shutdown(self, timeout: float = 5.0) -> None: ...


class Tracer:
    def __init__(self, sink: SpanSink, ratio: float = 1.0) -> None:
        self.sink = sink
        self.ratio = ratio
        self._bound = round(ratio * _LOW_64)

    def sampled(self, trace_id: int) -> bool:
        return self.ratio >= 1.0 or (trace_id & _LOW_64) < self._bound

    def start(
        self,
        name: str,
        kind: int,
        parent: TraceContext | None = None,
        attributes: Attributes | None = None,
        start_ns: int | None = None,
    ) -> Span | None:
        """A new span under `parent` (a root span without one), or None when not sampled."""
        if parent is not None:
            if not parent.sampled:
                return None
            trace_id, parent_id = parent.trace_id, parent.span_id
        else:
            trace_id, parent_id = random.getrandbits(128) or 1, 0
            if not self.sampled(trace_id):
                return None
        return Span(
            name,
            kind,
            trace_id,
            random.getrandbits(64) or 1,
            parent_id,
            start_ns or time.time_ns(),
            attributes=attributes if attributes is not None else {},
        )

    def child(self, parent: Span, name: str, kind: int, start_ns: int | None = None) -> Span:
        """A span under `parent` (sampled, since the parent is)."""
        return Span(
            name,
            kind,
            parent.trace_id,
            random.getrandbits(64) or 1,
            parent.span_id,
            start_ns or time.time_ns(),
        )

    def end(self, span: Span, end_ns: int | None = None) -> None:
        span.end_ns = end_ns or time.time_ns()
        self.sink.add(span)

    def shutdown(self) -> None:
        """Post what is queued (the service's lifespan calls this as it stops)."""
        self.sink.shutdown()
