"""Spans as OTLP/HTTP JSON (the `ExportTraceServiceRequest` of opentelemetry-proto, in the
protocol's JSON mapping: ids as hex strings, 64-bit integers as decimal strings, enums as
numbers), posted to `<endpoint>/v1/traces`.

Written as text directly rather than built as dicts for `json.dumps`: the exporter thread
runs in the gateway's process, so its CPU is the calls' CPU too, and this halves it (each
attribute key's opening is made once and kept; strings go through the C string escaper).
"""

from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring

from aigw.common.tracing.spans import AttributeValue, Span, SpanEvent

TRACES_PATH = "/v1/traces"
_KEYS: dict[str, str] = {}  # attribute key -> '{"key":"<key>","value":'


def traces_url(endpoint: str) -> str:
    """`OTEL_EXPORTER_OTLP_ENDPOINT` is the collector's base URL; traces go to /v1/traces."""
    return endpoint.rstrip("/") + TRACES_PATH


def encode(spans: Iterable[Span], resource: Mapping[str, AttributeValue], scope: str) -> bytes:
    body = ",".join(_span(span) for span in spans)
    return (
        '{"resourceSpans":[{"resource":{"attributes":'
        f"{attributes(resource)}}},"
        f'"scopeSpans":[{{"scope":{{"name":{encode_basestring(scope)}}},"spans":[{body}]}}]}}]}}'
    ).encode()


def _span(span: Span) -> str:
    parent = f'"parentSpanId":"{span.parent_id:016x}",' if span.parent_id else ""
    events = f',"events":[{",".join(map(_event, span.events))}]' if span.events else ""
    return (
        f'{{"traceId":"{span.trace_id:032x}","spanId":"{span.span_id:016x}",{parent}'
        f'"name":{encode_basestring(span.name)},"kind":{span.kind},'
        f'"startTimeUnixNano":"{span.start_ns}","endTimeUnixNano":"{span.end_ns}",'
        f'"attributes":{attributes(span.attributes)}{events},'
        f'"status":{{"code":{span.status},"message":{encode_basestring(span.status_message)}}}}}'
    )


def _event(event: SpanEvent) -> str:
    return (
        f'{{"timeUnixNano":"{event.time_ns}","name":{encode_basestring(event.name)},'
        f'"attributes":{attributes(event.attributes)}}}'
    )


def attributes(values: Mapping[str, AttributeValue]) -> str:
    parts = []
    for key, value in values.items():
        opening = _KEYS.get(key)
        if opening is None:
            opening = _KEYS[key] = f'{{"key":{encode_basestring(key)},"value":'
        parts.append(f"{opening}{any_value(value)}}}")
    return f"[{','.join(parts)}]"


def any_value(value: AttributeValue) -> str:
    if value is True:
        return '{"boolValue":true}'
    if value is False:
        return '{"boolValue":false}'
    if isinstance(value, int):
        return f'{{"intValue":"{value}"}}'
    if isinstance(value, float):
        return f'{{"doubleValue":{value!r}}}'
    return f'{{"stringValue":{encode_basestring(value)}}}'
