"""The mock provider served by uvicorn (as `main` runs it: uvloop, httptools) on a real socket:
the official SDKs against it, dropped connections and the delay before the first event."""

import time
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from aigw.devtools.mock_provider import MockConfig, MockProvider, count_tokens, create_app
from tests.support.served import ThreadServer

KEY = "mock-provider-key"
PROMPT = "Hello there mock, how are you"
ANTHROPIC = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
MESSAGES = {
    "model": "claude-mock-1",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": PROMPT}],
}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
ACME = {"engine": "rocket", "input": PROMPT}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[MockProvider, str]]:
    app = create_app(MockConfig())
    with ThreadServer(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=None,
        log_config=None,  # leave logging alone; the dropped streams log to pytest's capture
        timeout_graceful_shutdown=2,
    ) as server:
        yield app, server.url


@pytest.fixture
def url(served) -> Iterator[str]:
    app, base = served
    app.config = MockConfig()
    app.requests.clear()
    yield base
    app.config = MockConfig()


# --- Anthropic SDK ------------------------------------------------------------------------------


def anthropic_client(url: str, prefix: str = "/production") -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url + prefix, api_key=KEY, max_retries=0)


async def test_anthropic_sdk_create(url):
    async with anthropic_client(url) as client:
        message = await client.messages.create(
            model="claude-mock-1",
            max_tokens=64,
            system="Be brief",
            messages=[{"role": "user", "content": PROMPT}],
        )
    assert message.model == "claude-mock-1"
    assert message.role == "assistant"
    assert message.stop_reason == "end_turn"
    [block] = message.content
    assert block.type == "text"
    assert block.text.startswith("[production] Mock reply from the claude-mock-1 model")
    assert message.usage.input_tokens == count_tokens(f"Be brief {PROMPT}")
    assert message.usage.output_tokens == count_tokens(block.text)


async def test_anthropic_sdk_stream_helper(url):
    async with (
        anthropic_client(url) as client,
        client.messages.stream(
            model="claude-mock-1", max_tokens=64, messages=[{"role": "user", "content": PROMPT}]
        ) as stream,
    ):
        pieces = [text async for text in stream.text_stream]
        message = await stream.get_final_message()
    assert len(pieces) > 3
    text = "".join(pieces)
    assert text.startswith("[production] ")
    assert message.content[0].text == text
    assert message.model == "claude-mock-1"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens == count_tokens(PROMPT)
    assert message.usage.output_tokens == count_tokens(text)


async def test_anthropic_sdk_create_stream_true(url):
    async with anthropic_client(url, "/sandbox") as client:
        stream = await client.messages.create(
            model="claude-mock-2",
            max_tokens=64,
            messages=[{"role": "user", "content": PROMPT}],
            stream=True,
        )
        kinds = []
        text = ""
        output_tokens = None
        async for event in stream:
            kinds.append(event.type)
            if event.type == "message_start":
                assert event.message.model == "claude-mock-2"
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
            elif event.type == "message_delta":
                output_tokens = event.usage.output_tokens
    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_stop"
    assert text.startswith("[sandbox] ")
    assert output_tokens == count_tokens(text)


async def test_anthropic_sdk_sees_errors(url):
    async with anthropic.AsyncAnthropic(base_url=url, api_key="wrong", max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError) as denied:
            await client.messages.create(
                model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
    assert denied.value.body["error"]["type"] == "authentication_error"
    async with anthropic_client(url) as client:
        with pytest.raises(anthropic.RateLimitError) as limited:
            await client.messages.create(
                model="m",
                max_tokens=8,
                messages=[{"role": "user", "content": "hi"}],
                extra_headers={"x-mock-status": "429"},
            )
        with pytest.raises(anthropic.InternalServerError) as overloaded:
            await client.messages.create(
                model="m",
                max_tokens=8,
                messages=[{"role": "user", "content": "hi"}],
                extra_headers={"x-mock-status": "529"},
            )
    assert limited.value.body["error"]["type"] == "rate_limit_error"
    assert overloaded.value.status_code == 529
    assert overloaded.value.body["error"]["type"] == "overloaded_error"


# --- OpenAI SDK (the stream now waits before its first event too) ------------------------------


async def test_openai_sdk_stream_and_remaining_tokens(url):
    async with openai.AsyncOpenAI(base_url=f"{url}/p/v1", api_key=KEY, max_retries=0) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}]
        )
        completion = raw.parse()
        total = completion.usage.total_tokens
        assert raw.headers["x-ratelimit-remaining-tokens"] == str(1_000_000 - total)
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": PROMPT}],
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-mock-chunk-delay-ms": "5"},
        )
        text = ""
        usage = None
        async for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            usage = chunk.usage or usage
    assert text == completion.choices[0].message.content
    assert usage is not None
    assert usage.total_tokens == total


# --- the delay before the first event ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "headers", "body"),
    [
        ("/p/v1/chat/completions", {}, {"Authorization": f"Bearer {KEY}"}, CHAT),
        ("/p/v1/messages", {}, ANTHROPIC, MESSAGES),
        ("/p/acme/generate", {"key": KEY}, {}, ACME),
    ],
)
async def test_headers_come_at_once_and_the_first_event_after_the_chunk_delay(
    url, path, params, headers, body
):
    headers = {**headers, "x-mock-chunk-delay-ms": "400"}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        started = time.monotonic()
        async with http.stream(
            "POST", path, params=params, headers=headers, json={**body, "stream": True}
        ) as response:
            headers_at = time.monotonic() - started
            assert response.status_code == 200
            first = await anext(response.aiter_raw())
            first_at = time.monotonic() - started
    assert first
    assert headers_at < 0.3
    assert first_at >= 0.39


# --- breakAfterChunks: a real dropped connection ----------------------------------------------


async def read_until_dropped(response: httpx.Response) -> bytes:
    pieces: list[bytes] = []

    async def drain() -> None:
        async for piece in response.aiter_raw():
            pieces.append(piece)

    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        await drain()
    return b"".join(pieces)


@pytest.mark.parametrize(
    ("path", "params", "headers", "body", "separator"),
    [
        ("/p/v1/chat/completions", {}, {"Authorization": f"Bearer {KEY}"}, CHAT, b"data: "),
        ("/p/v1/messages", {}, ANTHROPIC, MESSAGES, b"event: "),
        ("/p/acme/generate", {"key": KEY}, {}, ACME, b"data: "),
    ],
)
async def test_break_after_chunks_drops_the_connection(url, path, params, headers, body, separator):
    request = {**body, "stream": True}
    broken = {**headers, "x-mock-break-after-chunks": "3", "x-mock-chunk-delay-ms": "1"}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        async with http.stream("POST", path, params=params, headers=broken, json=request) as r:
            assert r.status_code == 200
            received = await read_until_dropped(r)
        assert received.count(separator) == 3
        assert received.endswith(b"\n\n")
        # the mock itself is fine: the next request on a new connection is answered whole
        whole = await http.post(path, params=params, headers=headers, json=request)
    assert whole.status_code == 200
    assert whole.content.count(separator) > 3


async def test_break_after_chunks_per_segment_with_the_sdks(url):
    async with httpx.AsyncClient(base_url=url) as control:
        config = {"segments": {"b": {"breakAfterChunks": 4}}}
        assert (await control.post("/_mock/config", json=config)).status_code == 200
    async with openai.AsyncOpenAI(base_url=f"{url}/a/v1", api_key=KEY, max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        assert len([chunk async for chunk in stream]) > 4

    async def consume() -> None:
        async with (
            anthropic_client(url, "/b") as client,
            client.messages.stream(
                model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            ) as stream,
        ):
            async for _ in stream:
                pass

    with pytest.raises(Exception, match="incomplete chunked read"):  # the SDK does not wrap it
        await consume()
    async with httpx.AsyncClient(base_url=url) as control:
        recorded = (await control.get("/_mock/requests")).json()
    assert [r["path"] for r in recorded] == ["/a/v1/chat/completions", "/b/v1/messages"]
