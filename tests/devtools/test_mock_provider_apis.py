"""The mock provider's Anthropic and Acme APIs, per-segment control and breakAfterChunks,
in process (httpx's ASGI transport)."""

import json
import time

import httpx
import pytest

from aigw.devtools.mock_provider import MockConfig, StreamBroken, count_tokens, create_app

KEY = "mock-provider-key"
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
MESSAGES = {
    "model": "claude-mock-1",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello there mock"}],
}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there mock"}]}
ACME = {"engine": "rocket", "input": "Hello there mock"}


class _AnyMessage:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)


ANY = _AnyMessage()


@pytest.fixture
def app():
    return create_app(MockConfig())


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as c:
        yield c


@pytest.fixture
async def lenient(app):
    """A client that shows what was sent before the app raised (a dropped connection)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as c:
        yield c


def named_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        if not block:
            continue
        kind_line, data_line = block.split("\n")
        assert kind_line.startswith("event: ")
        assert data_line.startswith("data: ")
        events.append((kind_line[7:], json.loads(data_line[6:])))
    return events


def data_events(text: str) -> list[str]:
    return [block[6:] for block in text.split("\n\n") if block.startswith("data: ")]


# --- Anthropic Messages API -------------------------------------------------------------------


async def test_anthropic_message(client):
    response = await client.post("/production/v1/messages", json=MESSAGES, headers=ANTHROPIC)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["id"].startswith("msg_")
    assert body["type"] == "message"
    assert body["role"] == "assistant"
    assert body["model"] == "claude-mock-1"
    assert body["stop_reason"] == "end_turn"
    assert body["stop_sequence"] is None
    [block] = body["content"]
    assert block["type"] == "text"
    assert block["text"].startswith("[production] ")
    usage = body["usage"]
    assert usage == {
        "input_tokens": count_tokens("Hello there mock"),
        "output_tokens": count_tokens(block["text"]),
    }
    remaining = 1_000_000 - usage["input_tokens"] - usage["output_tokens"]
    assert response.headers["anthropic-ratelimit-tokens-remaining"] == str(remaining)


async def test_anthropic_is_deterministic_and_counts_system(client):
    first = (await client.post("/v1/messages", json=MESSAGES, headers=ANTHROPIC)).json()
    second = (await client.post("/v1/messages", json=MESSAGES, headers=ANTHROPIC)).json()
    assert first["content"] == second["content"]
    assert first["usage"] == second["usage"]
    assert first["content"][0]["text"].startswith("[v1] ")
    with_system = {**MESSAGES, "system": [{"type": "text", "text": "Be brief and kind"}]}
    third = (await client.post("/v1/messages", json=with_system, headers=ANTHROPIC)).json()
    assert third["usage"]["input_tokens"] == count_tokens("Be brief and kind Hello there mock")


async def test_anthropic_accepts_a_bearer_key(client):
    headers = {"Authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}
    response = await client.post("/x/v1/messages", json=MESSAGES, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"anthropic-version": "2023-06-01"},
        {"x-api-key": "wrong", "anthropic-version": "2023-06-01"},
        {"api-key": KEY, "anthropic-version": "2023-06-01"},
    ],
)
async def test_anthropic_bad_key_is_401(client, headers):
    response = await client.post("/x/v1/messages", json=MESSAGES, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    assert body["error"]["message"]


async def test_anthropic_version_is_required(client):
    response = await client.post("/x/v1/messages", json=MESSAGES, headers={"x-api-key": KEY})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "anthropic-version" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        json.dumps({**MESSAGES, "model": None}).encode(),
        json.dumps({k: v for k, v in MESSAGES.items() if k != "max_tokens"}).encode(),
        json.dumps({**MESSAGES, "max_tokens": 0}).encode(),
        json.dumps({**MESSAGES, "max_tokens": "64"}).encode(),
        json.dumps({**MESSAGES, "max_tokens": True}).encode(),
        json.dumps({**MESSAGES, "messages": []}).encode(),
        json.dumps({k: v for k, v in MESSAGES.items() if k != "messages"}).encode(),
    ],
)
async def test_anthropic_bad_request_is_400(client, content):
    headers = {**ANTHROPIC, "content-type": "application/json"}
    response = await client.post("/x/v1/messages", content=content, headers=headers)
    assert response.status_code == 400
    body = response.json()
    assert body == {"type": "error", "error": {"type": "invalid_request_error", "message": ANY}}


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, "rate_limit_error"), (500, "api_error"), (503, "api_error"), (529, "overloaded_error")],
)
async def test_anthropic_failures_have_anthropic_shape(client, app, status, kind):
    headers = {**ANTHROPIC, "x-mock-status": str(status)}
    response = await client.post("/x/v1/messages", json=MESSAGES, headers=headers)
    assert response.status_code == status
    assert response.json() == {"type": "error", "error": {"type": kind, "message": ANY}}
    # a configured failure too, and before auth
    await client.post("/_mock/config", json={"failStatus": status})
    response = await client.post("/x/v1/messages", json=MESSAGES)
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind


async def test_anthropic_stream_event_sequence(client):
    request = {**MESSAGES, "stream": True}
    response = await client.post("/production/v1/messages", json=request, headers=ANTHROPIC)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = named_events(response.text)
    kinds = [kind for kind, _ in events]
    assert all(kind == data["type"] for kind, data in events)
    deltas = kinds.count("content_block_delta")
    assert deltas > 3
    assert kinds == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert start["model"] == "claude-mock-1"
    assert start["content"] == []
    assert start["id"].startswith("msg_")
    input_tokens = count_tokens("Hello there mock")
    assert start["usage"] == {"input_tokens": input_tokens, "output_tokens": 1}
    assert events[1][1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    text = "".join(d["delta"]["text"] for k, d in events if k == "content_block_delta")
    assert all(
        d["index"] == 0 and d["delta"]["type"] == "text_delta"
        for k, d in events
        if k == "content_block_delta"
    )
    assert text.startswith("[production] ")
    # the same text as the non-streamed answer
    whole = (await client.post("/production/v1/messages", json=MESSAGES, headers=ANTHROPIC)).json()
    assert text == whole["content"][0]["text"]
    assert events[-2][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": count_tokens(text)},
    }
    assert events[-1][1] == {"type": "message_stop"}
    remaining = 1_000_000 - input_tokens - count_tokens(text)
    assert response.headers["anthropic-ratelimit-tokens-remaining"] == str(remaining)


# --- Acme --------------------------------------------------------------------------------------


async def test_acme_generate(client):
    response = await client.post("/tenant/acme/generate", params={"key": KEY}, json=ACME)
    assert response.status_code == 200
    body = response.json()
    text = body["output"]["text"]
    assert text.startswith("[tenant] ")
    n, m = count_tokens("Hello there mock"), count_tokens(text)
    assert body == {
        "output": {"text": text},
        "meta": {"engine": "rocket-2026"},
        "billing": {"tokens": {"in": n, "out": m, "sum": n + m}},
    }
    assert response.headers["x-acme-tokens-left"] == str(1_000_000 - n - m)
    again = await client.post("/tenant/acme/generate", params={"key": KEY}, json=ACME)
    assert again.json() == body


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {}),
        ({"key": "wrong"}, {}),
        ({}, {"Authorization": f"Bearer {KEY}"}),
        ({}, {"key": KEY, "x-api-key": KEY, "api-key": KEY}),
    ],
)
async def test_acme_key_must_be_a_query_parameter(client, params, headers):
    response = await client.post("/t/acme/generate", params=params, headers=headers, json=ACME)
    assert response.status_code == 401
    assert response.json() == {"fault": {"reason": "bad key"}}


@pytest.mark.parametrize(
    "body",
    [
        {"input": "hi"},
        {"engine": "rocket"},
        {"engine": 3, "input": "hi"},
        {"engine": "r", "input": 1},
    ],
)
async def test_acme_bad_request_is_400(client, body):
    response = await client.post("/t/acme/generate", params={"key": KEY}, json=body)
    assert response.status_code == 400
    assert response.json()["fault"]["reason"]


async def test_acme_failures_have_acme_shape(client):
    response = await client.post(
        "/t/acme/generate", params={"key": KEY}, json=ACME, headers={"x-mock-status": "503"}
    )
    assert response.status_code == 503
    assert list(response.json()) == ["fault"]


async def test_acme_stream(client):
    response = await client.post(
        "/tenant/acme/generate", params={"key": KEY}, json={**ACME, "stream": True}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "[DONE]" not in response.text
    events = [json.loads(e) for e in data_events(response.text)]
    assert len(events) > 3
    assert all(list(e) == ["delta"] for e in events[:-1])
    text = "".join(e["delta"]["text"] for e in events[:-1])
    assert text.startswith("[tenant] ")
    n, m = count_tokens("Hello there mock"), count_tokens(text)
    assert events[-1] == {
        "meta": {"engine": "rocket-2026"},
        "billing": {"tokens": {"in": n, "out": m, "sum": n + m}},
    }
    assert response.headers["x-acme-tokens-left"] == str(1_000_000 - n - m)


# --- OpenAI remaining-tokens header -----------------------------------------------------------


async def test_openai_remaining_tokens_header(client):
    headers = {"Authorization": f"Bearer {KEY}"}
    response = await client.post("/p/v1/chat/completions", json=CHAT, headers=headers)
    total = response.json()["usage"]["total_tokens"]
    assert response.headers["x-ratelimit-remaining-tokens"] == str(1_000_000 - total)
    request = {**CHAT, "stream": True}
    streamed = await client.post("/p/v1/chat/completions", json=request, headers=headers)
    assert streamed.headers["x-ratelimit-remaining-tokens"] == str(1_000_000 - total)


# --- per-segment control --------------------------------------------------------------------


async def test_segments_override_the_global_settings(client):
    update = {
        "chunkDelayMs": 1,
        "segments": {
            "b": {"failStatus": 503},
            "c": {"latencyMs": 150, "breakAfterChunks": 2},
        },
    }
    view = (await client.post("/_mock/config", json=update)).json()
    assert view == {
        "latencyMs": 0.0,
        "failStatus": None,
        "chunkDelayMs": 1.0,
        "breakAfterChunks": 0,
        "gzip": False,
        "segments": {"b": {"failStatus": 503}, "c": {"latencyMs": 150.0, "breakAfterChunks": 2}},
    }
    assert (await client.get("/_mock/config")).json() == view
    headers = {"Authorization": f"Bearer {KEY}"}
    assert (await client.post("/a/chat/completions", json=CHAT, headers=headers)).status_code == 200
    failed = await client.post("/b/chat/completions", json=CHAT, headers=headers)
    assert failed.status_code == 503
    # the failure is per segment whatever the API, in that API's shape, before auth
    failed = await client.post("/b/v1/messages", json=MESSAGES)
    assert failed.json()["error"]["type"] == "api_error"
    # a header still wins over the segment
    ok = await client.post(
        "/b/chat/completions", json=CHAT, headers={**headers, "x-mock-status": "0"}
    )
    assert ok.status_code == 200
    started = time.monotonic()
    assert (await client.post("/c/chat/completions", json=CHAT, headers=headers)).status_code == 200
    assert time.monotonic() - started >= 0.15

    recorded = (await client.get("/_mock/requests")).json()
    assert [r["path"].split("/")[1] for r in recorded] == ["a", "b", "b", "b", "c"]


async def test_segment_failstatus_null_overrides_a_global_failure(client):
    await client.post(
        "/_mock/config", json={"failStatus": 500, "segments": {"ok": {"failStatus": None}}}
    )
    headers = {"Authorization": f"Bearer {KEY}"}
    assert (
        await client.post("/ok/chat/completions", json=CHAT, headers=headers)
    ).status_code == 200
    assert (await client.post("/x/chat/completions", json=CHAT, headers=headers)).status_code == 500


async def test_posting_empty_segments_clears_them_and_omitting_keeps_them(client):
    await client.post("/_mock/config", json={"segments": {"b": {"failStatus": 429}}})
    view = (await client.post("/_mock/config", json={"latencyMs": 0})).json()
    assert view["segments"] == {"b": {"failStatus": 429}}
    view = (await client.post("/_mock/config", json={"segments": {}})).json()
    assert view["segments"] == {}
    headers = {"Authorization": f"Bearer {KEY}"}
    assert (await client.post("/b/chat/completions", json=CHAT, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    "update",
    [
        [],
        {"latencyMs": "slow"},
        {"latencyMs": -1},
        {"latencyMs": True},
        {"chunkDelayMs": [1]},
        {"failStatus": 200},
        {"failStatus": "oops"},
        {"failStatus": 503.5},
        {"breakAfterChunks": -1},
        {"breakAfterChunks": 1.5},
        {"segments": []},
        {"segments": {"b": 503}},
        {"segments": {"b": {"failstatus": 503}}},
        {"segments": {"b": {"latencyMs": "x"}}},
        {"failStatus": 503, "segments": {"b": {"nope": 1}}},
    ],
)
async def test_bad_config_is_400_and_changes_nothing(client, update):
    before = (await client.get("/_mock/config")).json()
    response = await client.post("/_mock/config", json=update)
    assert response.status_code == 400
    assert "Invalid config" in response.json()["error"]["message"]
    assert (await client.get("/_mock/config")).json() == before


async def test_config_accepts_numbers_as_strings_and_null(client):
    update = {"latencyMs": "5", "failStatus": "0", "chunkDelayMs": None, "breakAfterChunks": "3"}
    view = (await client.post("/_mock/config", json=update)).json()
    assert view["latencyMs"] == 5.0
    assert view["failStatus"] is None
    assert view["chunkDelayMs"] == 0.0
    assert view["breakAfterChunks"] == 3


# --- breakAfterChunks, in process (the real connection drop is tested in _served) --------------


async def test_break_after_chunks_raises_after_the_response_started(client):
    await client.post("/_mock/config", json={"breakAfterChunks": 2})
    headers = {"Authorization": f"Bearer {KEY}"}
    with pytest.raises(StreamBroken):
        await client.post("/p/chat/completions", json={**CHAT, "stream": True}, headers=headers)
    # a non-streamed answer is not affected
    assert (await client.post("/p/chat/completions", json=CHAT, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "headers", "body", "separator"),
    [
        ("/p/chat/completions", {}, {"Authorization": f"Bearer {KEY}"}, CHAT, b"data: "),
        ("/p/v1/messages", {}, ANTHROPIC, MESSAGES, b"event: "),
        ("/p/acme/generate", {"key": KEY}, {}, ACME, b"data: "),
    ],
)
async def test_break_after_chunks_sends_that_many_events(
    lenient, path, params, headers, body, separator
):
    request = {**body, "stream": True}
    whole = await lenient.post(path, params=params, headers=headers, json=request)
    assert whole.content.count(separator) > 4
    broken_headers = {**headers, "x-mock-break-after-chunks": "3"}
    broken = await lenient.post(path, params=params, headers=broken_headers, json=request)
    assert broken.status_code == 200
    assert broken.content.count(separator) == 3
    # more than all the events: all are sent, the response is still never finished
    broken_headers["x-mock-break-after-chunks"] = "1000"
    everything = await lenient.post(path, params=params, headers=broken_headers, json=request)
    assert everything.content.count(separator) == whole.content.count(separator)


async def test_break_after_chunks_per_segment(lenient):
    await lenient.post("/_mock/config", json={"segments": {"b": {"breakAfterChunks": 1}}})
    request = {**CHAT, "stream": True}
    headers = {"Authorization": f"Bearer {KEY}"}
    a = await lenient.post("/a/chat/completions", json=request, headers=headers)
    b = await lenient.post("/b/chat/completions", json=request, headers=headers)
    assert a.text.endswith("data: [DONE]\n\n")
    assert b.text.count("data: ") == 1
    assert '"role": "assistant"' in b.text


async def test_a_delayed_stream_stops_when_the_client_leaves(app):
    """While waiting before an event the mock listens for `http.disconnect` and stops there."""
    body = json.dumps({**CHAT, "stream": True}).encode()
    incoming = [
        {"type": "http.request", "body": body, "more_body": False},
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/p/chat/completions",
        "query_string": b"",
        "headers": [
            (b"authorization", f"Bearer {KEY}".encode()),
            (b"x-mock-chunk-delay-ms", b"5000"),
        ],
    }
    started = time.monotonic()
    await app(scope, receive, send)
    assert time.monotonic() - started < 1
    assert [m["type"] for m in sent] == ["http.response.start"]
    assert sent[0]["status"] == 200
