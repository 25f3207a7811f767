"""devportal's traces: a server span per API request (an incoming traceparent as its parent)
and a client span per call to keymanager, whose traceparent keymanager receives, so its own
server span joins devportal's trace."""

import httpx
import pytest

from aigw.devportal.settings import Settings
from aigw.devtools.otlp_collector import OtlpCollector
from tests.support.fake_keymanager import FakeKeymanager
from tests.support.infra import Infra
from tests.support.tracing import (
    CALLER_SPAN,
    CALLER_TRACE,
    CLIENT,
    SERVER,
    from_caller,
    spans_of_trace,
    traceparent,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(infra: Infra, secret_key: str, unique: str, collector: OtlpCollector) -> Settings:
    """The conftest's devportal, exporting its traces to the collector."""
    return Settings(
        **infra.bus_settings("devportal"),
        mongodb_url=infra.mongodb_url,
        secret_key=secret_key,
        mongodb_db=f"dp_{unique}",
        otlp_endpoint=collector.url,
    )


async def test_a_key_request_traces_devportal_and_carries_the_context_to_keymanager(
    devportal: httpx.AsyncClient, keymanager: FakeKeymanager, collector: OtlpCollector
) -> None:
    created = await devportal.post("/applications", json={"name": "traced-app"})
    app_id = created.json()["id"]
    caller = from_caller()

    response = await devportal.post(
        f"/applications/{app_id}/api-keys", json={"keyType": "SANDBOX"}, headers=caller
    )
    assert response.status_code == 201, response.text

    found = await spans_of_trace(collector, CALLER_TRACE, 2)
    [server] = [s for s in found if s.kind == SERVER]
    [client] = [s for s in found if s.kind == CLIENT]
    assert server.service == client.service == "aigw-devportal"
    assert server.parent_span_id == CALLER_SPAN  # the caller's trace continues
    assert server.name == "POST /api/devportal/v1/applications/{app_id}/api-keys"
    assert server.attributes["http.route"] == "/api/devportal/v1/applications/{app_id}/api-keys"
    assert server.attributes["http.response.status_code"] == 201
    assert client.parent_span_id == server.span_id
    assert client.attributes["http.request.method"] == "POST"
    assert client.attributes["http.response.status_code"] == 201
    assert server.start_ns <= client.start_ns <= client.end_ns <= server.end_ns
    # keymanager got the client span's context (and devportal's signature still verified)
    [issued] = [r for r in keymanager.requests if r.url.path.endswith("/api-keys")]
    assert issued.headers["traceparent"] == traceparent(CALLER_TRACE, client.span_id)


async def test_health_and_metrics_are_not_traced(
    devportal: httpx.AsyncClient, collector: OtlpCollector
) -> None:
    assert (await devportal.get("http://devportal/health/live")).status_code == 200
    assert (await devportal.get("http://devportal/metrics")).status_code == 200
    listed = await devportal.get("/applications")
    assert listed.status_code == 200
    [span] = await eventually(
        lambda: [s for s in collector.spans() if s.attributes.get("http.route")], timeout=10
    )
    assert span.name == "GET /api/devportal/v1/applications"
    assert not [
        s for s in collector.spans() if s.attributes.get("url.path", "").startswith("/health")
    ]
