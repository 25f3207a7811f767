"""Request ids end to end: every answer carries `x-request-id` (the caller's if valid, else a
new one), the usage record and the provider get the same id (in the header the vendor names),
and the provider's own id comes back as `x-provider-request-id`. Attacks: an id that could
inject a header or is too long is replaced, never echoed."""

import asyncio
import json
import re
import uuid

import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import KeyIssued, QuotaLimit
from aigw.devtools.processes import free_port
from tests.support.gateway import (
    CHAT,
    OPENAI,
    PATH,
    bearer,
    deploy_with_keys,
    set_plan,
    sse_data,
)
from tests.support.usage import usage_tap

pytestmark = pytest.mark.integration

NEW_ID = re.compile(r"[0-9a-f]{32}")


async def provider_saw(mock, unique: str) -> list[dict[str, str]]:
    """The headers of the mock's recorded requests to this API, oldest first."""
    return [r["headers"] for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]]


async def test_the_callers_id_is_echoed_sent_to_the_provider_and_recorded(
    gateway, deployed_api, events, mock
):
    d = deployed_api
    rid = f"caller-{uuid.uuid4().hex}:1.a_b-c"
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        answer = await client.post(
            f"/{d.prefix}{PATH}",
            json=CHAT,
            headers={**bearer(d.production_key), "x-request-id": rid},
        )
        [record] = await tap.wait_for(1)
    assert answer.status_code == 200
    assert answer.headers.get_list("x-request-id") == [rid]
    [seen] = await provider_saw(mock, d.unique)
    assert seen["x-request-id"] == rid
    # the mock's own id (as OpenAI's `req_...`) comes back beside the gateway's
    assert answer.headers["x-provider-request-id"].startswith("req_")
    assert record.request_id == rid
    assert record.record_id != rid  # the store's key stays the gateway's own


async def test_without_an_id_each_call_gets_a_new_one_everywhere(
    gateway, deployed_api, events, mock
):
    d = deployed_api
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        answers = [
            await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key))
            for _ in range(2)
        ]
        records = await tap.wait_for(2)
    ids = [a.headers["x-request-id"] for a in answers]
    assert all(NEW_ID.fullmatch(i) for i in ids)
    assert ids[0] != ids[1]
    assert [h["x-request-id"] for h in await provider_saw(mock, d.unique)] == ids
    assert sorted(r.request_id or "" for r in records) == sorted(ids)


async def test_a_repeated_caller_id_never_overwrites_another_record(gateway, deployed_api, events):
    d = deployed_api
    headers = {**bearer(d.production_key), "x-request-id": "same-id"}
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        for _ in range(2):
            await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=headers)
        records = await tap.wait_for(2)
    assert [r.request_id for r in records] == ["same-id", "same-id"]
    assert records[0].record_id != records[1].record_id


@pytest.mark.parametrize(
    "bad",
    [
        "x" * 129,  # overlong
        "has space",
        'quote"d',
        "semi;colon",
        "crlf%0d%0aSet-Cookie:%20pwned=1",
        "é-latin1",
        "",
    ],
    ids=["overlong", "space", "quote", "semicolon", "encoded-crlf", "non-ascii", "empty"],
)
async def test_an_invalid_id_is_replaced_not_echoed(gateway, deployed_api, mock, bad):
    d = deployed_api
    async with gateway.client() as client:
        answer = await client.post(
            f"/{d.prefix}{PATH}",
            json=CHAT,
            headers=[*bearer(d.production_key).items(), ("x-request-id", bad.encode("latin-1"))],
        )
    assert answer.status_code == 200
    assert NEW_ID.fullmatch(answer.headers["x-request-id"])
    assert "set-cookie" not in answer.headers
    [seen] = await provider_saw(mock, d.unique)
    assert seen["x-request-id"] == answer.headers["x-request-id"]


async def test_an_injected_header_line_stays_a_header_of_its_own(gateway, deployed_api, mock):
    """A raw request whose id is followed by an injected line: the line is just another
    request header (never forwarded, never in the answer), and the id is used only if valid."""
    d = deployed_api
    body = json.dumps(CHAT).encode()
    request = (
        f"POST /{d.prefix}{PATH} HTTP/1.1\r\nHost: gw\r\n"
        f"Authorization: Bearer {d.production_key}\r\n"
        "X-Request-Id: abc\r\nSet-Cookie: pwned=1\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    host, port = gateway.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    finally:
        writer.close()
    assert " 200 " in head.splitlines()[0]
    assert "\r\nx-request-id: abc\r\n" in head
    assert "set-cookie" not in head
    [seen] = await provider_saw(mock, d.unique)
    assert "set-cookie" not in seen


async def test_refusals_and_provider_errors_carry_the_id(
    gateway, deployed_api, events, mock_provider
):
    d = deployed_api
    other = f"other-{d.unique}"
    await events.publish(
        KeyIssued(
            key_id=f"ko-{d.unique}",
            key_hash=sha256_hex(other),
            application_id="someone-else",
            key_type="PRODUCTION",
        )
    )
    await gateway.wait_until(lambda: sha256_hex(other) in gateway.app.state.table.keys)
    down = await deploy_with_keys(
        events, gateway, mock_provider, uuid.uuid4().hex[:8],
        production_url=f"http://127.0.0.1:{free_port()}/v1",
    )  # fmt: skip
    url = f"/{d.prefix}{PATH}"
    calls = {
        401: (url, {}),
        403: (url, bearer(other)),
        404: ("/nothing/here/v1/chat/completions", bearer(d.production_key)),
        500: (url, {**bearer(d.production_key), "x-mock-status": "500"}),  # the provider's own
        502: (f"/{down.prefix}{PATH}", bearer(down.production_key)),  # unreachable
    }
    async with gateway.client() as client:
        for status, (path, headers) in calls.items():
            rid = f"id-{status}"
            answer = await client.post(path, json=CHAT, headers={**headers, "x-request-id": rid})
            assert answer.status_code == status, answer.text
            assert answer.headers.get_list("x-request-id") == [rid], status
        await set_plan(events, gateway, d, QuotaLimit(unit="minute", requests=1))
        headers = {**bearer(d.production_key), "x-request-id": "id-429"}
        first = await client.post(url, json=CHAT, headers=headers)
        refused = await client.post(url, json=CHAT, headers=headers)
    assert (first.status_code, refused.status_code) == (200, 429)
    assert refused.headers["x-request-id"] == "id-429"


async def test_a_stream_carries_the_id_and_its_record_too(gateway, deployed_api, events, mock):
    d = deployed_api
    headers = {**bearer(d.production_key), "x-request-id": "stream-1"}
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        streamed = await client.post(
            f"/{d.prefix}{PATH}", json={**CHAT, "stream": True}, headers=headers
        )
        [record] = await tap.wait_for(1)
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert sse_data(streamed.content)[-1] == "[DONE]"
    assert streamed.headers["x-request-id"] == "stream-1"
    assert (record.stream, record.request_id) == (True, "stream-1")
    [seen] = await provider_saw(mock, d.unique)
    assert seen["x-request-id"] == "stream-1"


@pytest.mark.parametrize(
    ("header", "sent_as"), [("X-Acme-Request", "x-acme-request"), (None, None)]
)
async def test_the_vendor_names_the_header_the_provider_gets_or_none(
    gateway, events, mock_provider, mock, header, sent_as
):
    vendor = OPENAI.model_copy(update={"request_id_header": header})
    d = await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8], vendor=vendor)
    caller = {**bearer(d.production_key), "x-request-id": "vendor-1", "x-acme-request": "mine"}
    async with gateway.client() as client:
        answer = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=caller)
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "vendor-1"  # the caller's answer is the same
    [seen] = await provider_saw(mock, d.unique)
    assert "x-request-id" not in seen
    if sent_as is None:
        assert "x-acme-request" not in seen  # nothing sent, and the caller's copy dropped
    else:
        assert seen[sent_as] == "vendor-1"  # the call's id, not the caller's own copy
