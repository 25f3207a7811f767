"""A tiny OTLP/HTTP trace collector for tests and development: it takes the JSON encoding at
`/v1/traces` (what aigw exports; protobuf is answered 415) and keeps the spans in memory,
decoded into `CollectedSpan`s (attributes as plain values).

    python -m aigw.devtools.otlp_collector --port 4318   # prints one line per span
    python -m aigw.devtools.otlp_collector --quiet       # counts only: GET /_collector/stats

    with OtlpCollector() as collector:    # in a test: a thread of its own on a free port
        settings = Settings(otlp_endpoint=collector.url, ...)
        ...
        [span] = collector.spans(name="chat mistral-small")
"""

import argparse
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

TRACES_PATH = "/v1/traces"
STATS_PATH = "/_collector/stats"


@dataclass(frozen=True)
class CollectedSpan:
    service: str  # the resource's service.name
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a root span
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    status_code: int = 0

    @property
    def traceparent_parent(self) -> str:
        """How a child names this span in its traceparent's middle fields."""
        return f"{self.trace_id}-{self.span_id}"


def value_of(any_value: dict[str, Any]) -> Any:
    """An OTLP AnyValue as a plain value."""
    if "stringValue" in any_value:
        return any_value["stringValue"]
    if "boolValue" in any_value:
        return any_value["boolValue"]
    if "intValue" in any_value:
        return int(any_value["intValue"])
    if "doubleValue" in any_value:
        return float(any_value["doubleValue"])
    if "arrayValue" in any_value:
        return [value_of(v) for v in any_value["arrayValue"].get("values", [])]
    return None


def attribute_map(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {item["key"]: value_of(item.get("value", {})) for item in items or []}


def decode(request: dict[str, Any]) -> list[CollectedSpan]:
    """The spans of an `ExportTraceServiceRequest` in OTLP's JSON encoding."""
    spans = []
    for resource_spans in request.get("resourceSpans", []):
        resource = attribute_map(resource_spans.get("resource", {}).get("attributes"))
        service = str(resource.get("service.name", ""))
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                spans.append(_span(service, span))
    return spans


def _span(service: str, span: dict[str, Any]) -> CollectedSpan:
    events = [
        (e["name"], int(e["timeUnixNano"]), attribute_map(e.get("attributes")))
        for e in span.get("events", [])
    ]
    return CollectedSpan(
        service=service,
        name=span["name"],
        kind=int(span.get("kind", 0)),
        trace_id=span["traceId"],
        span_id=span["spanId"],
        parent_span_id=span.get("parentSpanId", ""),
        start_ns=int(span["startTimeUnixNano"]),
        end_ns=int(span["endTimeUnixNano"]),
        attributes=attribute_map(span.get("attributes")),
        events=events,
        status_code=int(span.get("status", {}).get("code", 0)),
    )


class OtlpCollector:
    """The collector on 127.0.0.1 (`port` 0: a free one), served by a thread."""

    def __init__(self, port: int = 0, echo: bool = False) -> None:
        self._lock = threading.Lock()
        self._spans: list[CollectedSpan] = []
        self.requests = 0  # export requests taken
        self.echo = echo
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def spans(self, name: str | None = None, service: str | None = None) -> list[CollectedSpan]:
        with self._lock:
            return [
                s
                for s in self._spans
                if (name is None or s.name == name) and (service is None or s.service == service)
            ]

    def trace(self, trace_id: str) -> list[CollectedSpan]:
        return [s for s in self.spans() if s.trace_id == trace_id]

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def serve(self) -> None:
        """Serve on this thread until interrupted (`python -m`)."""
        self._server.serve_forever()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _took(self, spans: list[CollectedSpan]) -> None:
        with self._lock:
            self._spans.extend(spans)
            self.requests += 1
        if self.echo:
            for s in spans:
                ms = (s.end_ns - s.start_ns) / 1e6
                parent = s.parent_span_id or "-"
                print(
                    f"{s.service} {s.trace_id}/{s.span_id}<{parent} {s.name} {ms:.2f} ms",
                    flush=True,
                )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != STATS_PATH:
                    self._answer(404, b"{}")
                    return
                stats = {"spans": len(collector.spans()), "requests": collector.requests}
                self._answer(200, json.dumps(stats).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path != TRACES_PATH:
                    self._answer(404, b"{}")
                    return
                if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                    self._answer(415, b'{"message":"this collector takes OTLP/HTTP JSON"}')
                    return
                try:
                    spans = decode(json.loads(body))
                except (ValueError, KeyError, TypeError):
                    self._answer(400, b'{"message":"not an ExportTraceServiceRequest"}')
                    return
                collector._took(spans)
                self._answer(200, b"{}")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: a test's output is its own

        return Handler


@contextmanager
def collecting(port: int = 0) -> Iterator[OtlpCollector]:
    with OtlpCollector(port) as collector:
        yield collector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=4318)
    parser.add_argument("--quiet", action="store_true", help="print no span")
    args = parser.parse_args()
    collector = OtlpCollector(args.port, echo=not args.quiet)
    print(f"OTLP/HTTP collector at {collector.url} (JSON, {TRACES_PATH})", flush=True)
    with suppress(KeyboardInterrupt):  # Ctrl-C ends it
        collector.serve()


if __name__ == "__main__":
    main()
