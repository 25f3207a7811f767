import asyncio
import json
import time
import uuid
from typing import Any

import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import ApiUndeployed, KeyIssued, KeyRevoked
from aigw.devtools.processes import free_port
from tests.support.gateway import (
    OPENAI,
    PATH,
    RunningGateway,
    bearer,
    builtin,
    deploy_event,
    deploy_with_keys,
    run_gateway,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CHAT = {"model": "mistral-small", "messages": [{"role": "user", "content": "Hi from the test"}]}


async def recorded(mock, unique: str) -> list[dict[str, Any]]:
    return [r for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]]


def calls_counted(gateway: RunningGateway, label: str) -> float:
    """How many calls of the API the gateway has settled (any status), from its metrics."""
    registry = gateway.app.management.state.metrics_registry
    return sum(
        sample.value
        for metric in registry.collect()
        if metric.name == "aigw_gateway_requests"
        for sample in metric.samples
        if sample.name == "aigw_gateway_requests_total" and sample.labels["api"] == label
    )


async def test_production_key_goes_to_production_with_provider_key(gateway, deployed_api, mock):
    d = deployed_api
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}?trace=1&x=a%20b", json=CHAT, headers=bearer(d.production_key)
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert "[production]" in body["choices"][0]["message"]["content"]
    assert body["model"] == "mistral-small"
    [seen] = await recorded(mock, d.unique)
    assert seen["path"] == f"/production/{d.unique}{PATH}"
    assert seen["query"] == "trace=1&x=a%20b"
    assert seen["headers"]["authorization"] == "Bearer mock-provider-key"
    assert seen["json"] == CHAT
    assert d.production_key not in json.dumps(seen["headers"])
    assert "apikey" not in seen["headers"]


async def test_body_bytes_are_forwarded_untouched(gateway, deployed_api, mock):
    d = deployed_api
    raw = b'{ "messages" : [ {"role":"user","content":"spaced   out"} ],"model":"m" }'
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}",
            content=raw,
            headers={"ApiKey": d.production_key, "content-type": "application/json"},
        )
    assert response.status_code == 200
    [seen] = await recorded(mock, d.unique)
    assert seen["headers"]["content-length"] == str(len(raw))
    assert seen["json"] == json.loads(raw)
    assert d.production_key not in json.dumps(seen["headers"])


async def test_sandbox_key_goes_to_sandbox(gateway, deployed_api, mock):
    d = deployed_api
    async with gateway.client() as client:
        response = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.sandbox_key))
    assert response.status_code == 200
    assert "[sandbox]" in response.json()["choices"][0]["message"]["content"]
    [seen] = await recorded(mock, d.unique)
    assert seen["path"].startswith("/sandbox/")
    assert seen["headers"]["authorization"] == "Bearer mock-sandbox-key"


async def test_streaming_arrives_chunk_by_chunk(gateway, deployed_api):
    d = deployed_api
    request = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    headers = {**bearer(d.production_key), "x-mock-chunk-delay-ms": "30"}
    arrivals: list[float] = []
    pieces: list[bytes] = []
    async with (
        gateway.client() as client,
        client.stream("POST", f"/{d.prefix}{PATH}", json=request, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for piece in response.aiter_raw():
            arrivals.append(time.monotonic())
            pieces.append(piece)
    assert len(pieces) > 3
    assert arrivals[-1] - arrivals[0] > 0.05  # spread out in time: not buffered
    events = [e[6:] for e in b"".join(pieces).decode().split("\n\n") if e.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["usage"]["total_tokens"] > 0


async def test_client_disconnect_mid_stream_is_survived(gateway, deployed_api):
    d = deployed_api
    request = {**CHAT, "stream": True}
    headers = {**bearer(d.production_key), "x-mock-chunk-delay-ms": "50"}
    async with gateway.client() as client:
        async with client.stream(
            "POST", f"/{d.prefix}{PATH}", json=request, headers=headers
        ) as response:
            async for _ in response.aiter_raw():
                break  # leave after the first chunk
        await eventually(
            lambda: calls_counted(gateway, d.label),
            lambda count: count >= 1,
            what="the abandoned stream settled",
        )
        ok = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key))
    assert ok.status_code == 200


@pytest.mark.parametrize("status", [400, 404, 429, 500])
async def test_provider_status_and_body_come_back_unchanged(gateway, deployed_api, status):
    """All but a 401/403 to the gateway's provider key (see test_provider_credentials)."""
    d = deployed_api
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}",
            json=CHAT,
            headers={**bearer(d.production_key), "x-mock-status": str(status)},
        )
    assert response.status_code == status
    assert response.json()["error"]["message"] == f"Mock failure with status {status}"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "missing_api_key"),
        ({"Authorization": "Bearer nope"}, 401, "invalid_api_key"),
        ({"ApiKey": "nope"}, 401, "invalid_api_key"),
    ],
)
async def test_bad_keys_are_401(gateway, deployed_api, headers, status, code):
    async with gateway.client() as client:
        response = await client.post(f"/{deployed_api.prefix}{PATH}", json=CHAT, headers=headers)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "invalid_request_error"
    assert error["message"]


async def test_unsubscribed_application_is_403(gateway, deployed_api, events):
    key = f"other-{deployed_api.unique}"
    await events.publish(
        KeyIssued(
            key_id=f"ko-{deployed_api.unique}",
            key_hash=sha256_hex(key),
            application_id="someone-else",
            key_type="PRODUCTION",
        )
    )
    await gateway.wait_until(lambda: sha256_hex(key) in gateway.app.state.table.keys)
    async with gateway.client() as client:
        response = await client.post(
            f"/{deployed_api.prefix}{PATH}", json=CHAT, headers=bearer(key)
        )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_subscribed"


async def test_unknown_route_bad_path_and_bad_json(gateway, deployed_api):
    d = deployed_api
    async with gateway.client() as client:
        unknown = await client.post(
            f"/nope{d.unique}/1.0{PATH}", json=CHAT, headers=bearer(d.production_key)
        )
        bad_json = await client.post(
            f"/{d.prefix}{PATH}",
            content=b"{nope",
            headers={**bearer(d.production_key), "content-type": "application/json"},
        )
        bad_plus_json = await client.post(
            f"/{d.prefix}{PATH}",
            content=b"[1,",
            headers={
                **bearer(d.production_key),
                "content-type": "Application/Merge-Patch+JSON; charset=utf-8",
            },
        )
        encoded_slash = await client.post(
            f"/{d.prefix}/v1%2Fchat/completions", json=CHAT, headers=bearer(d.production_key)
        )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["code"] == "invalid_json"
    assert bad_plus_json.status_code == 400
    assert bad_plus_json.json()["error"]["code"] == "invalid_json"
    assert encoded_slash.status_code == 400


async def test_bodies_not_declared_json_are_forwarded_untouched(
    gateway, events, mock_provider, mock
):
    """Audio uploads (multipart), empty POSTs and other non-JSON bodies are normal calls (on a
    vendor whose definition also lists OpenAI's batch and file operations)."""
    assert OPENAI.operations is not None
    operations = {
        **OPENAI.operations,
        "/v1/batches/{batch_id}/cancel": ["POST"],
        "/v1/files": ["POST"],
    }
    vendor = OPENAI.model_copy(update={"operations": operations})
    d = await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8], vendor=vendor)
    form = (
        b'--b0undary\r\ncontent-disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
        b'--b0undary\r\ncontent-disposition: form-data; name="file"; filename="hi.wav"\r\n'
        b"content-type: audio/wav\r\n\r\nRIFF\x00\x01fake-wav{not json\r\n--b0undary--\r\n"
    )
    async with gateway.client(headers=bearer(d.production_key)) as client:
        upload = await client.post(
            f"/{d.prefix}/v1/audio/transcriptions",
            content=form,
            headers={"content-type": "multipart/form-data; boundary=b0undary"},
        )
        cancel = await client.post(f"/{d.prefix}/v1/batches/batch_{d.unique}/cancel")
        text = await client.post(
            f"/{d.prefix}/v1/files", content=b"{raw", headers={"content-type": "text/plain"}
        )
    for response in (upload, cancel, text):  # the mock knows none of these paths
        assert response.status_code == 404, response.text
        assert response.json()["error"]["message"].startswith("Unknown path")
    seen = {r["path"].split("/v1/", 1)[1]: r for r in await recorded(mock, d.unique)}
    assert set(seen) == {"audio/transcriptions", f"batches/batch_{d.unique}/cancel", "files"}
    multipart = seen["audio/transcriptions"]["headers"]
    assert multipart["content-type"] == "multipart/form-data; boundary=b0undary"
    assert multipart["content-length"] == str(len(form))
    assert seen[f"batches/batch_{d.unique}/cancel"]["headers"].get("content-length", "0") == "0"
    assert seen["files"]["headers"]["content-length"] == "4"
    for request in seen.values():
        assert request["method"] == "POST"
        assert request["headers"]["authorization"] == "Bearer mock-provider-key"


async def test_body_over_the_gateway_limit_is_413(deployed_api, gateway_settings, mock):
    d = deployed_api
    body = json.dumps(CHAT).encode()
    limit = len(body) + 10
    settings = gateway_settings.model_copy(update={"port": free_port(), "max_body_bytes": limit})
    headers = {**bearer(d.production_key), "content-type": "application/json"}
    async with run_gateway(settings) as small, small.client() as client:
        ok = await client.post(f"/{d.prefix}{PATH}", content=body, headers=headers)
        big = await client.post(
            f"/{d.prefix}{PATH}", content=body[:-1] + b',"x":"' + b"x" * 20 + b'"}', headers=headers
        )
    assert ok.status_code == 200
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "too_large"
    assert len(await recorded(mock, d.unique)) == 1


async def test_client_leaving_a_slow_non_streamed_call_abandons_it(
    deployed_api, gateway_settings, mock
):
    """The provider takes 30 s; the caller leaves after the gateway forwarded the request. The
    gateway must end the call at once (counted as 499), not wait for the provider."""
    d = deployed_api
    settings = gateway_settings.model_copy(update={"port": free_port(), "upstream_timeout": 60.0})
    body = json.dumps(CHAT).encode()
    request = (
        f"POST /{d.prefix}{PATH} HTTP/1.1\r\nHost: gw\r\n"
        f"Authorization: Bearer {d.production_key}\r\nx-mock-latency-ms: 30000\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    async with run_gateway(settings) as slow:
        registry = slow.app.management.state.metrics_registry
        labels = {"api": d.label, "model": "-", "status": "499"}
        _, writer = await asyncio.open_connection("127.0.0.1", settings.port)
        writer.write(request)
        await writer.drain()
        await eventually(lambda: recorded(mock, d.unique), what="the provider call under way")
        writer.close()
        await writer.wait_closed()
        await slow.wait_until(
            lambda: registry.get_sample_value("aigw_gateway_requests_total", labels) == 1,
            timeout=5.0,
        )
        async with slow.client() as client:  # and the gateway carries on
            ok = await client.post(
                f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key)
            )
        assert ok.status_code == 200


async def test_get_models_passes_through(gateway, deployed_api):
    async with gateway.client() as client:
        response = await client.get(
            f"/{deployed_api.prefix}/v1/models", headers=bearer(deployed_api.production_key)
        )
    assert response.status_code == 200
    assert response.json()["object"] == "list"


async def test_revoked_key_is_refused(gateway, deployed_api, events):
    d = deployed_api
    await events.publish(KeyRevoked(key_id=f"kp-{d.unique}"))
    await gateway.wait_until(
        lambda: sha256_hex(d.production_key) not in gateway.app.state.table.keys
    )
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key)
        )
    assert response.status_code == 401


async def test_new_deploy_is_routed_within_a_second(gateway, events, mock_provider):
    unique = uuid.uuid4().hex[:8]
    prefix = f"fresh{unique}/v2"
    started = time.monotonic()
    await events.publish(deploy_event(events, f"api-{unique}", prefix, mock_provider, unique))
    await gateway.wait_route(prefix, timeout=1.0)
    assert time.monotonic() - started < 1.0
    await events.publish(ApiUndeployed(api_id=f"api-{unique}"))
    await gateway.wait_until(lambda: prefix not in gateway.app.state.table.routes, timeout=1.0)


async def test_test_key_works_without_subscription_only_for_its_api(
    gateway, deployed_api, events, mock_provider
):
    d = deployed_api
    other_unique = uuid.uuid4().hex[:8]
    other_prefix = f"other{other_unique}/1.0"
    test_key = f"test-{d.unique}"
    await events.publish(
        deploy_event(events, f"api-{other_unique}", other_prefix, mock_provider, other_unique),
        KeyIssued(
            key_id=f"kt-{d.unique}",
            key_hash=sha256_hex(test_key),
            application_id=f"portal-test-{d.unique}",
            key_type="PRODUCTION",
            api_id=d.api_id,
        ),
    )
    await gateway.wait_route(other_prefix)
    await gateway.wait_until(lambda: sha256_hex(test_key) in gateway.app.state.table.keys)
    async with gateway.client() as client:
        ok = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(test_key))
        refused = await client.post(f"/{other_prefix}{PATH}", json=CHAT, headers=bearer(test_key))
    assert ok.status_code == 200
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "key_not_allowed"


async def test_azure_style_vendor_header_and_query(gateway, events, mock_provider, mock):
    unique = uuid.uuid4().hex[:8]
    prefix = f"azure{unique}/1.0"
    azure = builtin("AzureOpenAI", "2024-10-21")
    api_id = f"api-{unique}"
    await events.publish(
        deploy_event(events, api_id, prefix, mock_provider, unique, vendor=azure, sandbox=False),
        KeyIssued(
            key_id=f"kt-{unique}",
            key_hash=sha256_hex(f"t-{unique}"),
            application_id="portal",
            key_type="PRODUCTION",
            api_id=api_id,
        ),
        KeyIssued(
            key_id=f"ks-{unique}",
            key_hash=sha256_hex(f"s-{unique}"),
            application_id="portal",
            key_type="SANDBOX",
            api_id=api_id,
        ),
    )
    await gateway.wait_route(prefix)
    await gateway.wait_until(lambda: sha256_hex(f"s-{unique}") in gateway.app.state.table.keys)
    path = f"/{prefix}/openai/deployments/gpt4/chat/completions?api-version=2024-06-01"
    async with gateway.client() as client:
        response = await client.post(
            path, json=CHAT, headers={"api-key": "caller-junk", "ApiKey": f"t-{unique}"}
        )
        no_sandbox = await client.post(path, json=CHAT, headers=bearer(f"s-{unique}"))
    assert response.status_code == 200, response.text
    [seen] = await recorded(mock, unique)
    assert seen["headers"]["api-key"] == "mock-provider-key"
    assert "authorization" not in seen["headers"]
    assert seen["query"] == "api-version=2024-06-01"
    assert no_sandbox.status_code == 404
    assert no_sandbox.json()["error"]["code"] == "endpoint_not_configured"


async def test_unreachable_provider_is_502(gateway, events, mock_provider):
    unique = uuid.uuid4().hex[:8]
    prefix = f"dead{unique}/1.0"
    api_id = f"api-{unique}"
    closed = f"http://127.0.0.1:{free_port()}/production"
    await events.publish(
        deploy_event(events, api_id, prefix, mock_provider, unique, production_url=closed),
        KeyIssued(
            key_id=f"k-{unique}",
            key_hash=sha256_hex(f"k-{unique}"),
            application_id="a",
            key_type="PRODUCTION",
            api_id=api_id,
        ),
    )
    await gateway.wait_route(prefix)
    await gateway.wait_until(lambda: sha256_hex(f"k-{unique}") in gateway.app.state.table.keys)
    async with gateway.client() as client:
        response = await client.post(f"/{prefix}{PATH}", json=CHAT, headers=bearer(f"k-{unique}"))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"


async def test_slow_provider_is_504(gateway, deployed_api, mock):
    d = deployed_api  # the gateway's upstream timeout is 1 s in these tests
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}",
            json=CHAT,
            headers={**bearer(d.production_key), "x-mock-latency-ms": "1500"},
        )
        await mock.post("/_mock/config", json={"latencyMs": 1500})
        also = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key))
    assert response.status_code == 504
    assert response.json()["error"] == {
        "message": "The AI provider did not answer in time.",
        "type": "api_error",
        "code": "upstream_timeout",
    }
    assert also.status_code == 504


async def test_health_metrics_and_openapi(gateway, deployed_api):
    async with gateway.client() as client:
        await client.post(
            f"/{deployed_api.prefix}{PATH}", json=CHAT, headers=bearer(deployed_api.production_key)
        )
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
        metrics = await client.get("/metrics")
        openapi = await client.get("/openapi.json")
    assert live.status_code == 200
    assert ready.json() == {"status": "UP"}
    assert (
        f'aigw_gateway_requests_total{{api="{deployed_api.label}",model="mistral-small",status="200"}}'
        in metrics.text
    )
    assert "aigw_gateway_request_duration_seconds_bucket" in metrics.text
    assert openapi.json()["info"]["title"] == "aigw gateway"


async def test_a_restarted_gateway_replays_to_the_same_table(
    gateway, deployed_api, gateway_settings
):
    settings = gateway_settings.model_copy(update={"port": free_port()})
    async with run_gateway(settings) as second:
        # ready means caught up: the routes, keys and subscriptions are there before serving
        first_table, second_table = gateway.app.state.table, second.app.state.table
        assert deployed_api.prefix in second_table.routes
        assert second_table.snapshot() == first_table.snapshot()
        async with second.client() as client:
            response = await client.post(
                f"/{deployed_api.prefix}{PATH}",
                json=CHAT,
                headers=bearer(deployed_api.production_key),
            )
        assert response.status_code == 200
