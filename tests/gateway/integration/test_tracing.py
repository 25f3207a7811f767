"""OpenTelemetry traces of gateway calls, exported to the in-process OTLP collector: the
call's SERVER span and its attempt's CLIENT span, their GenAI attributes, the traceparent the
provider gets, an incoming traceparent as the parent, sampling, a stream and a refusal."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aigw.devtools.otlp_collector import CollectedSpan, OtlpCollector
from aigw.gateway.settings import Settings
from tests.support.gateway import (
    CHAT,
    PATH,
    Deployed,
    Events,
    RunningGateway,
    bearer,
    deploy_with_keys,
    run_gateway,
    stream_usage,
    usage_of,
)
from tests.support.tracing import (
    CALLER_SPAN,
    CALLER_TRACE,
    CLIENT,
    SERVER,
    from_caller,
    traceparent,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def traced_gateway(
    settings: Settings, collector: OtlpCollector, ratio: float = 1.0
) -> AsyncIterator[RunningGateway]:
    traced = settings.model_copy(
        update={"otlp_endpoint": collector.url, "traces_sampler_arg": ratio}
    )
    async with run_gateway(traced) as running:
        yield running


@pytest.fixture
async def traced(gateway_settings: Settings, collector: OtlpCollector) -> AsyncIterator[Any]:
    async for running in traced_gateway(gateway_settings, collector):
        yield running


@pytest.fixture
async def api(events: Events, traced: RunningGateway, mock_provider: str) -> Deployed:
    return await deploy_with_keys(events, traced, mock_provider, uuid.uuid4().hex[:8])


async def the_call(collector: OtlpCollector, api_id: str, spans: int = 2) -> list[CollectedSpan]:
    """The spans of the one traced call of `api_id`: its server span first."""

    def of_the_api() -> list[CollectedSpan]:
        [server, *_] = [s for s in collector.spans() if s.attributes.get("aigw.api.id") == api_id]
        return sorted(collector.trace(server.trace_id), key=lambda s: s.kind != SERVER)

    return await eventually(
        of_the_api, lambda found: len(found) == spans, ignoring=(ValueError,), timeout=10
    )


async def provider_headers(mock: Any, unique: str) -> dict[str, str]:
    [seen] = [r for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]]
    return dict(seen["headers"])


async def test_a_call_is_a_server_span_with_an_attempt_span_and_genai_attributes(
    traced, api, collector, mock
):
    async with traced.client() as client:
        response = await client.post(
            f"/{api.prefix}{PATH}", json=CHAT, headers=bearer(api.production_key)
        )
    assert response.status_code == 200, response.text
    prompt, completion, _ = usage_of(response.json())

    server, attempt = await the_call(collector, api.api_id)
    assert (server.kind, attempt.kind) == (SERVER, CLIENT)
    assert server.name == attempt.name == "chat mistral-small"
    assert server.service == "aigw-gateway"
    assert attempt.parent_span_id == server.span_id
    assert attempt.trace_id == server.trace_id
    assert server.parent_span_id == ""  # no caller's trace: the gateway's span is the root
    for span in (server, attempt):
        a = span.attributes
        assert a["gen_ai.operation.name"] == "chat"
        assert a["gen_ai.provider.name"] == a["gen_ai.system"] == "openai"
        assert a["gen_ai.request.model"] == "mistral-small"
        assert a["gen_ai.response.model"] == response.json()["model"]
        assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (
            prompt,
            completion,
        )
        assert a["http.response.status_code"] == 200
        assert "error.type" not in a
    assert attempt.attributes["server.address"] == "127.0.0.1"
    assert isinstance(attempt.attributes["server.port"], int)
    assert server.attributes["aigw.application.id"] == api.app_id
    assert server.attributes["aigw.key_type"] == "PRODUCTION"
    assert server.attributes["aigw.request.id"] == response.headers["x-request-id"]
    assert server.start_ns <= attempt.start_ns <= attempt.end_ns <= server.end_ns
    assert [name for name, _, _ in server.events] == ["aigw.prepared", "aigw.provider.done"]
    # the provider's spans can join the trace: it got the attempt span's context
    headers = await provider_headers(mock, api.unique)
    assert headers["traceparent"] == f"00-{attempt.trace_id}-{attempt.span_id}-01"


async def test_an_incoming_traceparent_is_the_parent(traced, api, collector, mock):
    caller = {**from_caller(), **bearer(api.production_key)}
    async with traced.client() as client:
        response = await client.post(f"/{api.prefix}{PATH}", json=CHAT, headers=caller)
    assert response.status_code == 200

    server, attempt = await the_call(collector, api.api_id)
    assert server.trace_id == attempt.trace_id == CALLER_TRACE
    assert server.parent_span_id == CALLER_SPAN
    headers = await provider_headers(mock, api.unique)
    assert headers["traceparent"] == traceparent(CALLER_TRACE, attempt.span_id)


async def test_a_stream_has_its_first_token_and_usage(traced, api, collector):
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    async with traced.client() as client:
        response = await client.post(
            f"/{api.prefix}{PATH}", json=body, headers=bearer(api.production_key)
        )
    assert response.status_code == 200
    reported = stream_usage(response.content)
    assert reported is not None

    server, attempt = await the_call(collector, api.api_id)
    assert server.attributes["aigw.stream"] is True
    names = [name for name, _, _ in server.events]
    assert names == ["aigw.prepared", "gen_ai.first_token", "aigw.provider.done"]
    times = [at for _, at, _ in server.events]
    assert times == sorted(times)
    for span in (server, attempt):
        assert span.attributes["gen_ai.usage.input_tokens"] == reported[0]
        assert span.attributes["gen_ai.usage.output_tokens"] == reported[1]


async def test_a_refused_call_has_its_error_type_and_no_attempt(traced, api, collector, mock):
    async with traced.client() as client:
        response = await client.post(f"/{api.prefix}{PATH}", json=CHAT, headers=bearer("nope"))
    assert response.status_code == 401

    def refused() -> list[CollectedSpan]:
        return [s for s in collector.spans() if s.attributes.get("aigw.api.id") == api.api_id]

    [server] = await eventually(refused, timeout=10)
    assert server.kind == SERVER
    assert server.attributes["error.type"] == "401"
    assert server.attributes["http.response.status_code"] == 401
    assert server.status_code == 2  # ERROR
    assert "gen_ai.usage.input_tokens" not in server.attributes


async def test_a_provider_error_is_on_the_attempt_span(traced, api, collector, mock):
    failing = {"x-mock-status": "503", **bearer(api.production_key)}
    async with traced.client() as client:
        response = await client.post(f"/{api.prefix}{PATH}", json=CHAT, headers=failing)
    assert response.status_code == 503

    server, attempt = await the_call(collector, api.api_id)
    assert attempt.attributes["http.response.status_code"] == 503
    assert attempt.attributes["error.type"] == server.attributes["error.type"] == "503"


async def test_sampling_zero_exports_nothing_and_sends_no_traceparent(
    gateway_settings, collector, events, mock_provider, mock
):
    async for gateway in traced_gateway(gateway_settings, collector, ratio=0.0):
        api = await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8])
        async with gateway.client() as client:
            response = await client.post(
                f"/{api.prefix}{PATH}", json=CHAT, headers=bearer(api.production_key)
            )
        assert response.status_code == 200
        tracing = gateway.app.invoker.tracing
        assert tracing is not None
        assert tracing.tracer.ratio == 0.0
        # whatever was queued is posted now: nothing was
        await asyncio.to_thread(tracing.tracer.sink.flush)  # type: ignore[attr-defined]
        assert collector.spans() == []
        assert collector.requests == 0
        assert "traceparent" not in await provider_headers(mock, api.unique)


async def test_without_an_endpoint_nothing_traces(gateway, deployed_api, mock):
    assert gateway.app.invoker.tracing is None
    async with gateway.client() as client:
        response = await client.post(
            f"/{deployed_api.prefix}{PATH}", json=CHAT, headers=bearer(deployed_api.production_key)
        )
    assert response.status_code == 200
    assert "traceparent" not in await provider_headers(mock, deployed_api.unique)
