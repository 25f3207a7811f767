"""Vendors as data through a real gateway: Anthropic on its native `/v1/messages` path with the
official `anthropic` SDK (plain and streaming), and a custom vendor whose key travels as a query
parameter and whose answer puts the counts in unusual places, metered end to end."""

import json
import uuid

import anthropic
import pytest

from aigw.common.vendors import VendorDefinition
from tests.support.gateway import bearer, builtin, deploy_with_keys, sse_data
from tests.support.usage import usage_tap
from tests.support.vendors import ACME_VENDOR

pytestmark = pytest.mark.integration

ANTHROPIC = builtin("Anthropic", "2023-06-01")
ACME = VendorDefinition.model_validate(ACME_VENDOR).spec()


async def last_request(mock, unique: str) -> dict:
    return [r for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]][-1]


async def test_the_anthropic_sdk_calls_messages_through_the_gateway(
    events, gateway, mock_provider, mock
):
    unique = uuid.uuid4().hex[:8]
    d = await deploy_with_keys(events, gateway, mock_provider, unique, vendor=ANTHROPIC)
    # The SDK sends its key as `x-api-key`: the gateway takes the subscription key from there.
    client = anthropic.AsyncAnthropic(
        base_url=f"{gateway.url}/{d.prefix}", api_key=d.production_key, max_retries=0
    )
    async with usage_tap(events, d.api_id) as tap:
        message = await client.messages.create(
            model="claude-mock-large",
            max_tokens=64,
            messages=[{"role": "user", "content": "Hello from the SDK"}],
        )
        [record] = await tap.wait_for(1)
    assert message.model == "claude-mock-large"
    assert message.content[0].type == "text"
    assert "[production]" in message.content[0].text
    seen = await last_request(mock, unique)
    assert seen["path"].endswith("/v1/messages")
    assert seen["headers"]["x-api-key"] == "mock-provider-key"  # the provider key, not ours
    assert d.production_key not in json.dumps(seen)
    assert (record.prompt_tokens, record.completion_tokens) == (
        message.usage.input_tokens,
        message.usage.output_tokens,
    )
    assert record.total_tokens == message.usage.input_tokens + message.usage.output_tokens
    assert record.served_model == record.requested_model == "claude-mock-large"
    assert record.remaining_tokens is not None
    await client.close()


async def test_the_anthropic_sdk_streams_through_the_gateway(events, gateway, mock_provider):
    unique = uuid.uuid4().hex[:8]
    d = await deploy_with_keys(events, gateway, mock_provider, unique, vendor=ANTHROPIC)
    client = anthropic.AsyncAnthropic(
        base_url=f"{gateway.url}/{d.prefix}", api_key=d.production_key, max_retries=0
    )
    async with usage_tap(events, d.api_id) as tap:
        async with client.messages.stream(
            model="claude-mock-small",
            max_tokens=64,
            messages=[{"role": "user", "content": "Stream to me please"}],
        ) as stream:
            text = "".join([chunk async for chunk in stream.text_stream])
            final = await stream.get_final_message()
        [record] = await tap.wait_for(1)
    assert "[production]" in text
    assert record.stream
    assert record.served_model == "claude-mock-small"
    assert (record.prompt_tokens, record.completion_tokens) == (
        final.usage.input_tokens,
        final.usage.output_tokens,
    )
    assert record.time_to_first_token_ms is not None
    await client.close()


async def test_the_anthropic_version_header_is_added_when_the_caller_omits_it(
    gateway, events, mock_provider, mock
):
    unique = uuid.uuid4().hex[:8]
    d = await deploy_with_keys(events, gateway, mock_provider, unique, vendor=ANTHROPIC)
    body = {"model": "claude-x", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}/v1/messages", json=body, headers=bearer(d.production_key)
        )
    assert response.status_code == 200
    assert (await last_request(mock, unique))["headers"]["anthropic-version"] == "2023-06-01"


async def test_a_custom_vendor_is_metered_from_where_its_definition_points(
    events, gateway, mock_provider, mock
):
    unique = uuid.uuid4().hex[:8]
    d = await deploy_with_keys(events, gateway, mock_provider, unique, vendor=ACME)
    request = {"engine": "acme-large", "input": "count these words for me please"}
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}/acme/generate?key=not-the-provider-key&trace=1",
            json=request,
            headers=bearer(d.production_key),
        )
        streamed = await client.post(
            f"/{d.prefix}/acme/generate",
            json={**request, "stream": True},
            headers=bearer(d.production_key),
        )
        plain, stream = await tap.wait_for(2)
    assert response.status_code == 200, response.text
    tokens = response.json()["billing"]["tokens"]
    assert (plain.prompt_tokens, plain.completion_tokens, plain.total_tokens) == (
        tokens["in"],
        tokens["out"],
        tokens["sum"],
    )
    assert plain.requested_model == "acme-large"
    assert plain.served_model == "acme-large-2026"
    assert plain.remaining_tokens == int(response.headers["x-acme-tokens-left"])
    assert not plain.estimated
    forwarded = [r for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]]
    assert forwarded[0]["query"] == "trace=1&key=mock-provider-key"  # the caller's key= replaced
    assert streamed.status_code == 200
    final = json.loads(sse_data(streamed.content)[-1])
    assert stream.stream
    assert (stream.prompt_tokens, stream.completion_tokens, stream.total_tokens) == (
        final["billing"]["tokens"]["in"],
        final["billing"]["tokens"]["out"],
        final["billing"]["tokens"]["sum"],
    )
    assert stream.served_model == "acme-large-2026"
    assert stream.time_to_first_token_ms is not None
