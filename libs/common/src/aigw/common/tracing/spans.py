"""A finished or running span, as plain data: what the exporter turns into OTLP.

No SDK objects: a span is a slotted record filled by whoever traces (the gateway fills its
spans once, when the call is settled), so tracing costs a few object allocations per call.
"""

import time
from dataclasses import dataclass, field

from aigw.common.tracing.context import TraceContext, format_traceparent

AttributeValue = str | bool | int | float
Attributes = dict[str, AttributeValue]

# OTLP's SpanKind and Status.StatusCode numbers
INTERNAL, SERVER, CLIENT = 1, 2, 3
UNSET, OK, ERROR = 0, 1, 2


@dataclass(slots=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Attributes = field(default_factory=dict)


@dataclass(slots=True)
class Span:
    name: str
    kind: int
    trace_id: int
    span_id: int
    parent_id: int  # 0: a root span
    start_ns: int
    end_ns: int = 0
    attributes: Attributes = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    status: int = UNSET
    status_message: str = ""

    @property
    def context(self) -> TraceContext:
        return TraceContext(self.trace_id, self.span_id, True)

    def traceparent(self) -> str:
        """The header that makes the next hop's span a child of this one."""
        return format_traceparent(self.trace_id, self.span_id, True)

    def event(self, name: str, time_ns: int | None = None, **attributes: AttributeValue) -> None:
        self.events.append(SpanEvent(name, time_ns or time.time_ns(), attributes))

    def fail(self, error_type: str, message: str = "") -> None:
        """The span's operation failed: `error.type` (semantic conventions) and status ERROR."""
        self.attributes["error.type"] = error_type
        self.status, self.status_message = ERROR, message
