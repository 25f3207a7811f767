"""Spans as OTLP/HTTP JSON (the `ExportTraceServiceRequest` of opentelemetry-proto, in the
protocol's JSON mapping: ids as hex strings, 64-bit integers as decimal strings, enums as
numbers), posted to `<endpoint>/v1/traces`."""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aigw.common.tracing.spans import AttributeValue, Span

TRACES_PATH = "/v1/traces"


def traces_url(endpoint: str) -> str:
    """`OTEL_EXPORTER_OTLP_ENDPOINT` is the collector's base URL; traces go to /v1/traces."""
    return endpoint.rstrip("/") + TRACES_PATH


def encode(spans: Iterable[Span], resource: Mapping[str, AttributeValue], scope: str) -> bytes:
    request = {
        "resourceSpans": [
            {
                "resource": {"attributes": attributes(resource)},
                "scopeSpans": [{"scope": {"name": scope}, "spans": [_span(s) for s in spans]}],
            }
        ]
    }
    return json.dumps(request, separators=(",", ":")).encode()


def _span(span: Span) -> dict[str, Any]:
    encoded: dict[str, Any] = {
        "traceId": f"{span.trace_id:032x}",
        "spanId": f"{span.span_id:016x}",
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": attributes(span.attributes),
        "status": {"code": span.status, "message": span.status_message},
    }
    if span.parent_id:
        encoded["parentSpanId"] = f"{span.parent_id:016x}"
    if span.events:
        encoded["events"] = [
            {"timeUnixNano": str(e.time_ns), "name": e.name, "attributes": attributes(e.attributes)}
            for e in span.events
        ]
    return encoded


def attributes(values: Mapping[str, AttributeValue]) -> list[dict[str, Any]]:
    return [{"key": key, "value": any_value(value)} for key, value in values.items()]


def any_value(value: AttributeValue) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": value}
