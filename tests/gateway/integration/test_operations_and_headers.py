"""What of a call reaches the provider: only the operations of the API's vendor definition
(anything else is the gateway's 404 or 405), only the headers a caller may set, and a request
for an uncompressed answer (so a provider that compresses its streams is still metered)."""

import asyncio
import json
import uuid
from typing import Any

import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import KeyIssued
from tests.support.gateway import (
    CHAT,
    PATH,
    bearer,
    builtin,
    deploy_event,
    deploy_with_keys,
    sse_data,
    stream_usage,
)
from tests.support.usage import usage_tap

pytestmark = pytest.mark.integration

ANTHROPIC = builtin("Anthropic", "2023-06-01")
AZURE = builtin("AzureOpenAI", "2024-10-21")
MESSAGE = {"model": "claude-x", "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}


async def recorded(mock, unique: str) -> list[dict[str, Any]]:
    return [r for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]]


def _gateway_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == "invalid_request_error"
    assert error["message"]


async def test_operations_outside_the_definition_are_answered_by_the_gateway(
    gateway, deployed_api, mock
):
    d = deployed_api
    async with gateway.client(headers=bearer(d.production_key)) as client:
        delete = await client.delete(f"/{d.prefix}/v1/files/file-abc?purge=1")
        trace = await client.request("TRACE", f"/{d.prefix}/v1/anything")
        listing = await client.get(f"/{d.prefix}/v1/files")
        no_path = await client.post(f"/{d.prefix}", json=CHAT)
        trailing = await client.post(f"/{d.prefix}{PATH}/", json=CHAT)
        wrong_method = await client.get(f"/{d.prefix}{PATH}")
        put_models = await client.put(f"/{d.prefix}/v1/models/gpt-x", json={})
        ok = await client.post(f"/{d.prefix}{PATH}", json=CHAT)
        model = await client.get(f"/{d.prefix}/v1/models/gpt-x")
    for response in (delete, trace, listing, no_path, trailing):
        _gateway_error(response, 404, "unknown_operation")
    _gateway_error(wrong_method, 405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "POST"
    _gateway_error(put_models, 405, "method_not_allowed")
    assert put_models.headers["allow"] == "GET"
    assert ok.status_code == 200
    assert model.status_code == 404  # the mock's own answer: it serves /models only
    assert "Unknown path" in model.json()["error"]["message"]
    seen = [(r["method"], r["path"].split(d.unique, 1)[1]) for r in await recorded(mock, d.unique)]
    assert seen == [("POST", PATH), ("GET", "/v1/models/gpt-x")]


async def test_a_path_parameter_matches_exactly_one_segment(gateway, events, mock_provider, mock):
    unique = uuid.uuid4().hex[:8]
    prefix, api_id, key = f"azure{unique}/1.0", f"api-{unique}", f"t-{unique}"
    await events.publish(
        deploy_event(events, api_id, prefix, mock_provider, unique, vendor=AZURE, sandbox=False),
        KeyIssued(
            key_id=f"kt-{unique}",
            key_hash=sha256_hex(key),
            application_id="portal",
            key_type="PRODUCTION",
            api_id=api_id,
        ),
    )
    await gateway.wait_route(prefix)
    await gateway.wait_until(lambda: sha256_hex(key) in gateway.app.state.table.keys)
    query = "?api-version=2024-10-21"
    async with gateway.client(headers={"ApiKey": key}) as client:
        one = await client.post(
            f"/{prefix}/openai/deployments/gpt4/chat/completions{query}", json=CHAT
        )
        two = await client.post(
            f"/{prefix}/openai/deployments/a/b/chat/completions{query}", json=CHAT
        )
        none = await client.post(f"/{prefix}/openai/chat/completions{query}", json=CHAT)
        other = await client.get(f"/{prefix}/openai/deployments/gpt4{query}")
    assert one.status_code == 200, one.text
    for response in (two, none, other):
        _gateway_error(response, 404, "unknown_operation")
    [seen] = await recorded(mock, unique)
    assert seen["path"].endswith("/openai/deployments/gpt4/chat/completions")


async def test_only_the_headers_a_caller_may_set_reach_the_provider(gateway, deployed_api, mock):
    """Cookies, client-identity, provider-account and hop-by-hop headers (those named in
    `Connection:` too) stay at the gateway; generic ones and the vendor's callerHeaders go."""
    d = deployed_api
    body = json.dumps(CHAT).encode()
    request = (
        f"POST /{d.prefix}{PATH} HTTP/1.1\r\nHost: gw\r\n"
        f"Authorization: Bearer {d.production_key}\r\n"
        "Content-Type: application/json\r\n"
        "Accept: application/json\r\n"
        "User-Agent: OpenAI/Python 1.50.0\r\n"
        "X-Stainless-Lang: python\r\n"
        "Idempotency-Key: idem-1\r\n"
        "OpenAI-Beta: assistants=v2\r\n"
        "OpenAI-Organization: org-victim\r\n"
        "OpenAI-Project: proj-victim\r\n"
        "Cookie: session=s3cret\r\n"
        "X-Forwarded-For: 10.1.2.3\r\n"
        "X-Forwarded-Host: internal.example\r\n"
        "Forwarded: for=10.1.2.3\r\n"
        "X-Real-IP: 10.1.2.3\r\n"
        "X-Custom-Thing: whatever\r\n"
        "Connection: keep-alive, X-Stainless-Retry-Count, X-Hop-Secret\r\n"
        "X-Stainless-Retry-Count: 1\r\n"
        "X-Request-Id: req-1\r\n"
        "X-Hop-Secret: hop\r\n"
        "Accept-Encoding: gzip, br\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    reader, writer = await asyncio.open_connection(*gateway.url.removeprefix("http://").split(":"))
    try:
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
    assert b" 200 " in status_line, status_line
    [seen] = await recorded(mock, d.unique)
    headers = seen["headers"]
    for dropped in (
        "openai-organization",
        "openai-project",
        "cookie",
        "x-forwarded-for",
        "x-forwarded-host",
        "forwarded",
        "x-real-ip",
        "x-custom-thing",
        "x-stainless-retry-count",  # allowed in general, but the caller named it hop-by-hop
        "x-hop-secret",
        "connection",
    ):
        assert dropped not in headers, dropped
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"] == "OpenAI/Python 1.50.0"
    assert headers["x-stainless-lang"] == "python"
    assert headers["idempotency-key"] == "idem-1"
    assert headers["x-request-id"] == "req-1"  # the call's request id (the caller's: valid)
    assert headers["openai-beta"] == "assistants=v2"
    assert headers["accept-encoding"] == "identity"
    assert headers["authorization"] == "Bearer mock-provider-key"


async def test_anthropic_callers_set_version_and_beta_but_not_the_account(
    gateway, events, mock_provider, mock
):
    d = await deploy_with_keys(
        events, gateway, mock_provider, uuid.uuid4().hex[:8], vendor=ANTHROPIC
    )
    headers = {
        "x-api-key": d.production_key,
        "anthropic-version": "2023-01-01",
        "anthropic-beta": "tools-2024",
        "openai-organization": "org-victim",
        "x-request-id": "req-1",
    }
    async with gateway.client() as client:
        response = await client.post(f"/{d.prefix}/v1/messages", json=MESSAGE, headers=headers)
    assert response.status_code == 200, response.text
    [seen] = await recorded(mock, d.unique)
    assert seen["headers"]["anthropic-version"] == "2023-01-01"  # the caller's, not the default
    assert seen["headers"]["anthropic-beta"] == "tools-2024"
    assert seen["headers"]["x-request-id"] == "req-1"
    assert seen["headers"]["x-api-key"] == "mock-provider-key"
    assert "openai-organization" not in seen["headers"]


async def test_a_provider_that_gzips_its_stream_is_still_metered(
    gateway, deployed_api, events, mock
):
    """The caller accepts gzip (httpx does by default) and the provider compresses what it may:
    the gateway asks for identity, so it reads the usage chunk of the stream."""
    d = deployed_api
    await mock.post("/_mock/config", json={"gzip": True})
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        plain = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key))
        streamed = await client.post(
            f"/{d.prefix}{PATH}", json={**CHAT, "stream": True}, headers=bearer(d.production_key)
        )
        records = await tap.wait_for(2)
    assert streamed.status_code == 200
    assert sse_data(streamed.content)[-1] == "[DONE]"
    assert stream_usage(streamed.content) is None  # the caller did not ask for the usage chunk
    for seen in await recorded(mock, d.unique):
        assert seen["headers"]["accept-encoding"] == "identity"
    usage = plain.json()["usage"]
    expected = (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"])
    record = records[1]
    assert record.stream
    assert not record.estimated
    assert (record.prompt_tokens, record.completion_tokens, record.total_tokens) == expected
