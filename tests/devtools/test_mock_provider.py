import json
import sys

import httpx
import pytest

from aigw.devtools.mock_provider import MockConfig, count_tokens, create_app
from aigw.devtools.processes import ManagedProcess, free_port

KEY = {"Authorization": "Bearer mock-provider-key"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there mock"}]}


@pytest.fixture
def app():
    return create_app(MockConfig())


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as c:
        yield c


def sse_events(text: str) -> list[str]:
    return [line[6:] for line in text.split("\n\n") if line.startswith("data: ")]


async def test_chat_completion_names_endpoint_and_counts_usage(client):
    response = await client.post("/production/v1/chat/completions", json=CHAT, headers=KEY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert "[production]" in choice["message"]["content"]
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["prompt_tokens"] == count_tokens("Hello there mock") == 4
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_usage_is_deterministic(client):
    first = (await client.post("/sandbox/chat/completions", json=CHAT, headers=KEY)).json()
    second = (await client.post("/sandbox/chat/completions", json=CHAT, headers=KEY)).json()
    assert first["usage"] == second["usage"]
    assert "[sandbox]" in first["choices"][0]["message"]["content"]


async def test_azure_path_and_api_key_header(client):
    response = await client.post(
        "/openai/deployments/gpt4/chat/completions",
        params={"api-version": "2024-06-01"},
        json=CHAT,
        headers={"api-key": "mock-sandbox-key"},
    )
    assert response.status_code == 200
    recorded = (await client.get("/_mock/requests")).json()[-1]
    assert recorded["query"] == "api-version=2024-06-01"
    assert recorded["headers"]["api-key"] == "mock-sandbox-key"
    assert recorded["json"] == CHAT


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"api-key": "wrong"}, {"Authorization": "x"}]
)
async def test_bad_key_is_401(client, headers):
    response = await client.post("/production/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_api_key"
    assert error["message"]


@pytest.mark.parametrize("content", [b"{not json", b'{"model":"m"}', b'{"messages":[]}', b"[]"])
async def test_bad_request_is_400(client, content):
    response = await client.post(
        "/v1/chat/completions",
        content=content,
        headers={**KEY, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_models(client):
    response = await client.get("/production/v1/models", headers=KEY)
    assert response.status_code == 200
    assert response.json()["object"] == "list"


async def test_streaming_chunks_then_usage_then_done(client):
    request = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    response = await client.post("/production/v1/chat/completions", json=request, headers=KEY)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) > 3
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert text.startswith("[production]")


async def test_streaming_without_usage(client):
    response = await client.post("/p/chat/completions", json={**CHAT, "stream": True}, headers=KEY)
    chunks = [json.loads(e) for e in sse_events(response.text)[:-1]]
    assert all(c["choices"] for c in chunks)


async def test_failure_header_and_runtime_config(client):
    response = await client.post(
        "/p/chat/completions", json=CHAT, headers={**KEY, "x-mock-status": "429"}
    )
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"

    config = await client.post("/_mock/config", json={"failStatus": 503, "latencyMs": 1})
    assert config.json() == {
        "latencyMs": 1.0,
        "failStatus": 503,
        "chunkDelayMs": 0.0,
        "breakAfterChunks": 0,
        "gzip": False,
        "segments": {},
    }
    assert (await client.post("/p/chat/completions", json=CHAT, headers=KEY)).status_code == 503
    await client.post("/_mock/config", json={"failStatus": None, "latencyMs": 0})
    assert (await client.post("/p/chat/completions", json=CHAT, headers=KEY)).status_code == 200


async def test_gzip_answers_only_callers_that_accept_it_streams_chunk_by_chunk(client):
    assert (await client.post("/_mock/config", json={"gzip": "yes"})).status_code == 400
    await client.post("/_mock/config", json={"gzip": True})
    stream = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    gzipped = await client.post("/p/chat/completions", json=stream, headers=KEY)
    identity = {**KEY, "accept-encoding": "identity"}
    plain = await client.post("/p/chat/completions", json=stream, headers=identity)
    refused = {**KEY, "accept-encoding": "gzip;q=0, identity"}
    not_gzip = await client.post("/p/chat/completions", json=CHAT, headers=refused)
    assert gzipped.headers["content-encoding"] == "gzip"
    assert len(sse_events(gzipped.text)) == len(sse_events(plain.text))
    assert sse_events(gzipped.text)[-1] == "[DONE]"
    assert json.loads(sse_events(gzipped.text)[-2])["usage"]["total_tokens"] > 0
    assert "content-encoding" not in plain.headers
    assert sse_events(plain.text)[-1] == "[DONE]"
    assert "content-encoding" not in not_gzip.headers
    assert not_gzip.json()["usage"]["total_tokens"] > 0
    await client.post("/_mock/config", json={"gzip": False})
    assert "content-encoding" not in (await client.get("/p/models", headers=KEY)).headers


async def test_requests_are_recorded_and_cleared(client):
    for _ in range(3):
        await client.post("/p/chat/completions", json=CHAT, headers=KEY)
    recorded = (await client.get("/_mock/requests")).json()
    assert len(recorded) == 3
    assert recorded[0]["method"] == "POST"
    assert recorded[0]["path"] == "/p/chat/completions"
    assert recorded[0]["headers"]["authorization"] == "Bearer mock-provider-key"
    await client.delete("/_mock/requests")
    assert (await client.get("/_mock/requests")).json() == []


async def test_requests_log_keeps_last_100(client):
    for i in range(105):
        await client.get(f"/p{i}/models", headers=KEY)
    recorded = (await client.get("/_mock/requests")).json()
    assert len(recorded) == 100
    assert recorded[0]["path"] == "/p5/models"


@pytest.mark.integration  # the mock as its own process, on a socket
def test_real_process_streams_with_delay(tmp_path):
    port = free_port()
    argv = [sys.executable, "-m", "aigw.devtools.mock_provider", "--port", str(port)]
    argv += ["--api-keys", "k1,k2"]
    proc = ManagedProcess("mock", argv, port=port, log_path=tmp_path / "mock.log")
    proc.start()
    try:
        proc.wait_ready(20)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.post("/x/chat/completions", json=CHAT, headers=KEY).status_code == 401
            ok = http.post("/x/chat/completions", json=CHAT, headers={"api-key": "k2"})
            assert ok.status_code == 200
            request = {**CHAT, "stream": True}
            headers = {"Authorization": "Bearer k1", "x-mock-chunk-delay-ms": "20"}
            with http.stream("POST", "/x/chat/completions", json=request, headers=headers) as r:
                pieces = list(r.iter_raw())
            assert len(pieces) > 3  # arrived one by one, not as one buffer
    finally:
        proc.stop()
