"""aigw.common.tracing without I/O: traceparent, sampling, the OTLP JSON encoding (read back
by the dev collector's decoder), the exporter's bounds, the settings, and the management
services' server spans and client propagation over in-memory transports."""

import json
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import ValidationError

from aigw.common.crypto import generate_master_key
from aigw.common.tracing import CLIENT, SERVER, Span, TraceContext, Tracer, parse_traceparent
from aigw.common.tracing.client import TracedTransport
from aigw.common.tracing.exporter import BatchExporter
from aigw.common.tracing.http import CURRENT, ServerSpans
from aigw.common.tracing.otlp import encode, traces_url
from aigw.devtools.otlp_collector import CollectedSpan, decode
from aigw.gateway.settings import Settings as GatewaySettings
from tests.support.offline import offline_bus_settings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


@dataclass
class Sink:
    spans: list[Span] = field(default_factory=list)

    def add(self, span: Span) -> None:
        self.spans.append(span)

    def shutdown(self, timeout: float = 5.0) -> None:
        pass


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE}-{PARENT}-01", TraceContext(int(TRACE, 16), int(PARENT, 16), True)),
        (f"00-{TRACE}-{PARENT}-00", TraceContext(int(TRACE, 16), int(PARENT, 16), False)),
        (f" 00-{TRACE}-{PARENT}-01 ".encode(), TraceContext(int(TRACE, 16), int(PARENT, 16), True)),
        # a later version: its first four fields, whatever follows
        (f"cc-{TRACE}-{PARENT}-01-more", TraceContext(int(TRACE, 16), int(PARENT, 16), True)),
        (f"00-{TRACE}-{PARENT}-01-more", None),  # version 00 has exactly four
        (f"ff-{TRACE}-{PARENT}-01", None),
        (f"00-{TRACE.upper()}-{PARENT}-01", None),
        (f"00-{'0' * 32}-{PARENT}-01", None),
        (f"00-{TRACE}-{'0' * 16}-01", None),
        (f"00-{TRACE[:-1]}-{PARENT}-01", None),
        ("garbage", None),
        (None, None),
    ],
)
def test_traceparent_is_read_as_the_recommendation_says(
    header: str | bytes | None, expected: TraceContext | None
) -> None:
    assert parse_traceparent(header) == expected


def test_a_context_writes_the_header_it_was_read_from() -> None:
    header = f"00-{TRACE}-{PARENT}-01"
    context = parse_traceparent(header)
    assert context is not None
    assert context.header() == header


def test_sampling_follows_the_parent_and_otherwise_the_ratio() -> None:
    sink = Sink()
    never, always = Tracer(sink, 0.0), Tracer(sink, 1.0)
    sampled = TraceContext(1, 2, True)
    assert never.start("x", SERVER) is None
    assert always.start("x", SERVER) is not None
    assert never.start("x", SERVER, sampled) is not None  # the caller's decision is kept
    assert always.start("x", SERVER, TraceContext(1, 2, False)) is None
    child = always.start("x", SERVER, sampled)
    assert child is not None
    assert (child.trace_id, child.parent_id) == (1, 2)
    half = Tracer(sink, 0.5)
    assert half.sampled((1 << 64) * 7 + 1)
    assert not half.sampled((1 << 64) - 1)
    roots = [half.start("x", SERVER) for _ in range(2000)]
    assert 800 < sum(r is not None for r in roots) < 1200


def test_the_otlp_json_reads_back_as_it_was_written() -> None:
    tracer, sink = Tracer(Sink()), Sink()
    tracer.sink = sink
    root = tracer.start("chat m", SERVER, attributes={"s": "v", "i": 3, "f": 0.5, "b": True})
    assert root is not None
    child = tracer.child(root, "chat m", CLIENT)
    child.event("first", 5, n=1)
    child.fail("503")
    tracer.end(child)
    tracer.end(root)
    spans = decode_spans(encode(sink.spans, {"service.name": "svc"}, "aigw.test"))
    by_kind = {s.kind: s for s in spans}
    server, client = by_kind[SERVER], by_kind[CLIENT]
    assert server.service == "svc"
    assert server.attributes == {"s": "v", "i": 3, "f": 0.5, "b": True}
    assert server.parent_span_id == ""
    assert client.parent_span_id == server.span_id == f"{root.span_id:016x}"
    assert client.trace_id == f"{root.trace_id:032x}"
    assert client.events == [("first", 5, {"n": 1})]
    assert client.attributes == {"error.type": "503"}
    assert client.status_code == 2
    assert server.start_ns <= server.end_ns


def decode_spans(body: bytes) -> list[CollectedSpan]:
    return decode(json.loads(body))


def test_the_exporter_never_blocks_a_full_or_stopped_queue_drops() -> None:
    span = Span("x", SERVER, 1, 2, 0, 0)
    full = BatchExporter("http://collector.invalid/v1/traces", {}, "s", max_queue=0)
    full.add(span)
    assert full.dropped == 1
    stopped = BatchExporter("http://collector.invalid/v1/traces", {}, "s")
    stopped.shutdown()
    stopped.add(span)
    assert stopped.dropped == 1


def gateway_settings(**values: object) -> GatewaySettings:
    return GatewaySettings(
        **offline_bus_settings("gateway"), secret_key=generate_master_key(), **values
    )


def test_no_endpoint_no_tracer_and_the_otel_variables_otherwise() -> None:
    assert gateway_settings().tracer() is None
    settings = gateway_settings(
        otlp_endpoint="http://127.0.0.1:4318/",
        otlp_headers="authorization=Bearer%20t0ken, x-team = ai",
        traces_sampler_arg=0.25,
    )
    tracer = settings.tracer()
    assert tracer is not None
    assert tracer.ratio == 0.25
    exporter = tracer.sink
    assert isinstance(exporter, BatchExporter)
    assert exporter.url == "http://127.0.0.1:4318/v1/traces" == traces_url("http://127.0.0.1:4318")
    assert exporter.resource["service.name"] == "aigw-gateway"
    assert exporter.headers["authorization"] == "Bearer t0ken"
    assert exporter.headers["x-team"] == "ai"
    named = gateway_settings(otlp_endpoint="http://c:4318", otel_service_name="edge")
    assert named.service_name == "edge"
    with pytest.raises(ValidationError):
        gateway_settings(traces_sampler_arg=1.5)
    with pytest.raises(ValidationError):
        gateway_settings(otlp_endpoint="collector:4317")  # gRPC's form: not this exporter's


async def test_server_spans_and_client_propagation_in_memory() -> None:
    sink = Sink()
    tracer = Tracer(sink)
    downstream: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        downstream.append(request)
        return httpx.Response(204)

    outgoing = httpx.AsyncClient(transport=TracedTransport(tracer, httpx.MockTransport(answer)))
    router = APIRouter(prefix="/api/v1")

    @router.post("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        await outgoing.post("http://other:8003/api/x")
        return {"id": thing_id}

    app = FastAPI()
    app.include_router(router)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {}

    app.add_middleware(ServerSpans, tracer=tracer)
    caller = {"traceparent": f"00-{TRACE}-{PARENT}-01"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.post("/api/v1/things/7", headers=caller)).status_code == 200
        assert (await c.get("/health/live")).status_code == 200
    await outgoing.aclose()

    client, server = sink.spans  # the client span ends first
    assert (server.kind, client.kind) == (SERVER, CLIENT)
    assert server.name == "POST /api/v1/things/{thing_id}"
    assert f"{server.trace_id:032x}" == TRACE
    assert f"{server.parent_id:016x}" == PARENT
    assert server.attributes["http.response.status_code"] == 200
    assert client.parent_id == server.span_id
    assert client.attributes["server.address"] == "other"
    assert client.attributes["server.port"] == 8003
    assert client.attributes["http.response.status_code"] == 204
    [sent] = downstream
    assert sent.headers["traceparent"] == f"00-{TRACE}-{client.span_id:016x}-01"
    assert CURRENT.get() is None
