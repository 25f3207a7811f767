"""The local embedding model: all-MiniLM-L6-v2 on numpy gives the similarities
sentence-transformers documents for it; its server speaks OpenAI's embeddings shape, checks
keys when it has some, refuses to listen beyond loopback without them; `make run` starts it and
points the gateway at it."""

import base64
from pathlib import Path

import httpx
import numpy as np
import pytest

from aigw.devtools.local_embeddings import LocalEmbeddings, main
from aigw.devtools.minilm import MiniLM
from aigw.devtools.run import _banner
from aigw.devtools.stack import Stack, StackConfig


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM()


def test_the_model_gives_the_similarities_sentence_transformers_documents(model):
    # sentence-transformers' README, for all-MiniLM-L6-v2: 0.6660, 0.1046, 0.1411
    texts = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    vectors = model.encode(texts)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    similarities = vectors @ vectors.T
    assert similarities[0, 1] == pytest.approx(0.6660, abs=5e-4)
    assert similarities[0, 2] == pytest.approx(0.1046, abs=5e-4)
    assert similarities[1, 2] == pytest.approx(0.1411, abs=5e-4)


def test_a_text_embeds_alike_alone_and_in_a_batch_of_longer_ones(model):
    alone = model.encode(["short one"])[0]
    batched = model.encode(["a much longer text that pads the short one in its batch", "short one"])
    np.testing.assert_allclose(batched[1], alone, atol=1e-5)  # the padding is masked


async def served(app: LocalEmbeddings, **kwargs) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", **kwargs)


async def test_the_server_answers_openais_shape_in_input_order(model):
    async with await served(LocalEmbeddings(model)) as client:
        answer = await client.post("/v1/embeddings", json={"input": ["one", "two"], "model": "x"})
        single = await client.post("/v1/embeddings", json={"input": "two"})
        packed = await client.post(
            "/v1/embeddings", json={"input": "two", "encoding_format": "base64"}
        )
    assert answer.status_code == 200
    body = answer.json()
    assert [row["index"] for row in body["data"]] == [0, 1]
    assert body["model"] == "all-MiniLM-L6-v2"
    np.testing.assert_allclose(
        body["data"][1]["embedding"], single.json()["data"][0]["embedding"], atol=1e-6
    )
    decoded = np.frombuffer(base64.b64decode(packed.json()["data"][0]["embedding"]), np.float32)
    np.testing.assert_allclose(decoded, single.json()["data"][0]["embedding"], atol=1e-6)


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"input": []}', b'{"input": [1]}', b"{}"])
async def test_a_bad_request_is_a_400(model, body):
    async with await served(LocalEmbeddings(model)) as client:
        answer = await client.post("/v1/embeddings", content=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"


async def test_with_keys_every_caller_needs_one(model):
    app = LocalEmbeddings(model, ["k1"])
    async with await served(app) as client:
        anonymous = await client.post("/v1/embeddings", json={"input": "x"})
        wrong = await client.post(
            "/v1/embeddings", json={"input": "x"}, headers={"Authorization": "Bearer k2"}
        )
        right = await client.post(
            "/v1/embeddings", json={"input": "x"}, headers={"Authorization": "Bearer k1"}
        )
    assert (anonymous.status_code, wrong.status_code, right.status_code) == (401, 401, 200)


def test_it_listens_beyond_loopback_only_with_keys(monkeypatch):
    monkeypatch.delenv("LOCAL_EMBEDDINGS_API_KEYS", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["--host", "0.0.0.0"])
    assert exited.value.code == 2


def test_make_run_starts_it_and_points_the_gateway_at_it(tmp_path: Path):
    stack = Stack(StackConfig(data_dir=tmp_path, secret_key="k", admin_password="admin"))
    (embeddings,) = [p for p in stack.processes if p.name == "embeddings"]
    (gateway,) = [p for p in stack.processes if p.name == "gateway"]
    assert "--host" not in embeddings.argv  # its default: loopback only
    assert gateway.env["GATEWAY_EMBEDDINGS_URL"] == "http://127.0.0.1:8091/v1/embeddings"
    assert "embeddings     http://127.0.0.1:8091/v1/embeddings" in _banner(stack, [])
