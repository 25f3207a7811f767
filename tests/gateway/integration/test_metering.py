"""Token metering and usage records: JSON answers, streams (with and without the caller asking
for usage), vendors that always stream usage, providers that report none, and a client that
leaves mid-stream."""

import json
import uuid

import pytest

from aigw.common.events import ApplicationCreated
from tests.support.gateway import (
    CHAT,
    PATH,
    bearer,
    builtin,
    deploy_with_keys,
    sse_data,
    stream_usage,
    usage_of,
)
from tests.support.usage import usage_tap

pytestmark = pytest.mark.integration


async def recorded_json(mock, unique: str) -> list[dict]:
    return [r["json"] for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]]


async def test_json_call_is_recorded_with_the_providers_counts(gateway, deployed_api, events):
    d = deployed_api
    await events.publish(ApplicationCreated(application_id=d.app_id, name="app", owner="alice"))
    await gateway.wait_until(lambda: d.app_id in gateway.app.state.table.application_owners)
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key)
        )
        [record] = await tap.wait_for(1)
    assert response.status_code == 200
    prompt, completion, total = usage_of(response.json())
    assert (record.prompt_tokens, record.completion_tokens, record.total_tokens) == (
        prompt,
        completion,
        total,
    )
    assert record.application_id == d.app_id
    assert record.subscriber == "alice"
    assert record.key_type == "PRODUCTION"
    assert record.status == 200
    assert not record.stream
    assert record.requested_model == record.served_model == "mistral-small"
    assert record.provider_latency_ms > 0
    assert record.gateway_latency_ms > 0
    assert record.time_to_first_token_ms is None
    assert len(tap.batches[0].batch_id) == 32


async def test_stream_without_usage_is_metered_and_the_extra_chunk_dropped(
    gateway, deployed_api, events, mock
):
    d = deployed_api
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        plain = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key))
        streamed = await client.post(
            f"/{d.prefix}{PATH}", json={**CHAT, "stream": True}, headers=bearer(d.production_key)
        )
        records = await tap.wait_for(2)
    assert streamed.status_code == 200
    data = sse_data(streamed.content)
    assert data[-1] == "[DONE]"
    assert stream_usage(streamed.content) is None  # the caller did not ask for it
    assert all(json.loads(chunk)["choices"] for chunk in data[:-1])
    forwarded = (await recorded_json(mock, d.unique))[-1]
    assert forwarded["stream_options"] == {"include_usage": True}
    record = records[1]
    assert record.stream
    assert record.status == 200
    expected = usage_of(plain.json())
    assert (record.prompt_tokens, record.completion_tokens, record.total_tokens) == expected
    assert record.time_to_first_token_ms is not None
    assert record.time_to_first_token_ms > 0


async def test_stream_that_asks_for_usage_is_forwarded_and_relayed_untouched(
    gateway, deployed_api, events, mock
):
    d = deployed_api
    raw = json.dumps({**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        streamed = await client.post(
            f"/{d.prefix}{PATH}",
            content=raw.encode(),
            headers={**bearer(d.production_key), "content-type": "application/json"},
        )
        [record] = await tap.wait_for(1)
    seen = [r for r in (await mock.get("/_mock/requests")).json() if d.unique in r["path"]][-1]
    assert seen["headers"]["content-length"] == str(len(raw))
    usage = stream_usage(streamed.content)
    assert usage is not None
    assert (record.prompt_tokens, record.completion_tokens, record.total_tokens) == usage


async def test_include_usage_false_is_overridden_for_metering(gateway, deployed_api, mock):
    d = deployed_api
    request = {**CHAT, "stream": True, "stream_options": {"include_usage": False}}
    async with gateway.client() as client:
        streamed = await client.post(
            f"/{d.prefix}{PATH}", json=request, headers=bearer(d.production_key)
        )
    assert stream_usage(streamed.content) is None
    forwarded = (await recorded_json(mock, d.unique))[-1]
    assert forwarded["stream_options"] == {"include_usage": True}


async def test_mistral_streams_usage_itself_and_gets_no_stream_options(
    gateway, events, mock_provider, mock
):
    unique = uuid.uuid4().hex[:8]
    mistral = builtin("MistralAI", "v1")
    d = await deploy_with_keys(events, gateway, mock_provider, unique, vendor=mistral)
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        streamed = await client.post(
            f"/{d.prefix}{PATH}",
            json={**CHAT, "stream": True},
            headers={**bearer(d.production_key), "x-mock-usage": "final-chunk"},
        )
        [record] = await tap.wait_for(1)
    assert "stream_options" not in (await recorded_json(mock, unique))[-1]
    usage = stream_usage(streamed.content)  # relayed unchanged: Mistral's own last chunk
    assert usage is not None
    assert (record.prompt_tokens, record.completion_tokens, record.total_tokens) == usage


async def test_answers_without_usage_are_estimated(gateway, deployed_api, events):
    d = deployed_api
    raw = json.dumps(CHAT).encode()
    headers = {
        **bearer(d.production_key),
        "x-mock-usage": "omit",
        "content-type": "application/json",
    }
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        plain = await client.post(f"/{d.prefix}{PATH}", content=raw, headers=headers)
        streamed = await client.post(
            f"/{d.prefix}{PATH}", json={**CHAT, "stream": True}, headers=headers
        )
        json_record, stream_record = await tap.wait_for(2)
    assert "usage" not in plain.json()
    assert json_record.prompt_tokens == (len(raw) + 3) // 4
    assert json_record.completion_tokens == 0  # a JSON answer's content is not read
    content = "".join(
        json.loads(c)["choices"][0]["delta"].get("content", "")
        for c in sse_data(streamed.content)[:-1]
    )
    assert stream_record.completion_tokens == (len(content) + 3) // 4 > 0


async def test_client_leaving_mid_stream_still_counts_the_tokens_produced(
    gateway, deployed_api, events
):
    d = deployed_api
    headers = {**bearer(d.production_key), "x-mock-chunk-delay-ms": "100"}
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        async with client.stream(
            "POST", f"/{d.prefix}{PATH}", json={**CHAT, "stream": True}, headers=headers
        ) as response:
            received = b""
            async for piece in response.aiter_raw():
                received += piece
                if received.count(b"data: ") >= 4:
                    break
        [record] = await tap.wait_for(1)
    assert record.status == 499
    assert record.completion_tokens > 0
    assert record.prompt_tokens > 0
    assert record.total_tokens == record.prompt_tokens + record.completion_tokens
    assert record.completion_tokens < 30  # only what was produced before the client left
