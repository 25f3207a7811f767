"""`HttpEmbedder` against the mock provider's `/v1/embeddings` (its own process): rows in the
texts' order and of unit length, one request per new text (recent vectors are remembered), and
every failure (a refused key, a non-200, a timeout, an answer that is not JSON or has the wrong
shape) an `EmbeddingError`."""

import asyncio
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest

from aigw.devtools.mock_provider.openai_embeddings import DEFAULT_DIMENSIONS, embedding
from aigw.gateway.client import ANY_ADDRESS, Pool
from aigw.gateway.embeddings import EmbeddingError
from aigw.gateway.embeddings.http import MAX_CHARS, HttpEmbedder

pytestmark = pytest.mark.integration


@pytest.fixture
async def embedder_for(mock_provider: str) -> AsyncIterator[Callable[..., HttpEmbedder]]:
    made: list[HttpEmbedder] = []

    def make(key: str = "mock-provider-key", timeout: float = 5.0, url: str = "") -> HttpEmbedder:
        embedder = HttpEmbedder(url or f"{mock_provider}/v1/embeddings", "emb-model", key, timeout)
        made.append(embedder)
        return embedder

    yield make
    for embedder in made:
        await embedder.close()


async def sent_inputs(mock) -> list[object]:
    requests = (await mock.get("/_mock/requests")).json()
    return [r["json"]["input"] for r in requests if r["path"] == "/v1/embeddings"]


async def test_rows_come_in_the_texts_order_each_text_asked_once(embedder_for, mock):
    embedder = embedder_for()
    vectors = await embedder.embed(["beta gamma", "alpha", "beta gamma"])
    assert vectors.shape == (3, DEFAULT_DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[0], embedding("beta gamma", DEFAULT_DIMENSIONS), atol=1e-6)
    np.testing.assert_allclose(vectors[1], embedding("alpha", DEFAULT_DIMENSIONS), atol=1e-6)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    assert await sent_inputs(mock) == [["beta gamma", "alpha"]]
    request = (await mock.get("/_mock/requests")).json()[0]
    assert request["headers"]["authorization"] == "Bearer mock-provider-key"
    assert request["json"]["model"] == "emb-model"


async def test_remembered_vectors_are_not_asked_again(embedder_for, mock):
    embedder = embedder_for()
    first = await embedder.embed(["alpha"])
    again = await embedder.embed(["delta", "alpha"])
    np.testing.assert_array_equal(again[1], first[0])
    assert await sent_inputs(mock) == [["alpha"], ["delta"]]
    assert (await embedder.embed([])).shape[0] == 0
    assert await sent_inputs(mock) == [["alpha"], ["delta"]]


async def test_a_refused_key_is_an_embedding_error(embedder_for):
    with pytest.raises(EmbeddingError, match="answered 401"):
        await embedder_for(key="wrong").embed(["alpha"])


async def test_a_failing_endpoint_is_an_embedding_error_and_nothing_is_remembered(
    embedder_for, mock
):
    embedder = embedder_for()
    await mock.post("/_mock/config", json={"failStatus": 503})
    with pytest.raises(EmbeddingError, match="answered 503"):
        await embedder.embed(["alpha"])
    await mock.post("/_mock/config", json={"failStatus": None})
    assert (await embedder.embed(["alpha"])).shape == (1, DEFAULT_DIMENSIONS)
    assert len(await sent_inputs(mock)) == 2


async def test_a_slow_endpoint_times_out_as_an_embedding_error(embedder_for, mock):
    await mock.post("/_mock/config", json={"latencyMs": 2_000})
    with pytest.raises(EmbeddingError, match="TimeoutError"):
        await embedder_for(timeout=0.2).embed(["alpha"])


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b"not json", "not usable"),
        (b'{"data": [{"index": 0}]}', "not usable"),
        (b'{"data": [{"index": 0, "embedding": [1, 0]}, {"index": 1, "embedding": [0, 1]}]}', "wrong shape"),
    ],
)  # fmt: skip
async def test_an_unusable_answer_is_an_embedding_error(embedder_for, answer, problem):
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:"))  # fmt: skip
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(answer), answer))  # fmt: skip
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(EmbeddingError, match=problem):
            await embedder_for(url=f"http://127.0.0.1:{port}/v1/embeddings").embed(["alpha"])
    finally:
        server.close()
        await server.wait_closed()


async def test_many_more_calls_than_pool_slots_each_free_their_slot(mock_provider):
    """Every answer gives its connection back: more calls than the pool has slots all work
    (a leaked slot made the 33rd call of a 32-slot pool wait for ever), refusals included."""
    pool = Pool(limit=2, addresses=ANY_ADDRESS)
    embedder = HttpEmbedder(f"{mock_provider}/v1/embeddings", "m", "mock-provider-key", 5.0, pool)
    refused = HttpEmbedder(f"{mock_provider}/v1/embeddings", "m", "wrong-key", 5.0, pool)
    try:
        for index in range(6):
            assert (await embedder.embed([f"text number {index}"])).shape[0] == 1
            with pytest.raises(EmbeddingError, match="answered 401"):
                await refused.embed([f"refused {index}"])
    finally:
        await embedder.close()


async def test_a_long_text_is_embedded_by_its_start(embedder_for, mock):
    embedder = embedder_for()
    long_text = "word " * 10_000
    await embedder.embed([long_text])
    (sent,) = await sent_inputs(mock)
    assert sent == [long_text[:MAX_CHARS]]
    await embedder.embed([long_text + "different ending"])  # the same start: remembered
    assert len(await sent_inputs(mock)) == 1
