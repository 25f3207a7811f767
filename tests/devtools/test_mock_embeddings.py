"""The mock provider's `/v1/embeddings` (in process): OpenAI's shape, deterministic unit
vectors that share direction with shared words, its key check and its 400s."""

import httpx
import numpy as np
import pytest

from aigw.devtools.mock_provider import MockConfig, create_app

KEY = {"Authorization": "Bearer mock-provider-key"}


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=create_app(MockConfig()))
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as c:
        yield c


async def test_embeddings_are_deterministic_unit_rows_in_input_order(client):
    body = {"model": "m", "input": ["red apple pie", "apple pie", "tax return deadline"]}
    answer = await client.post("/production/v1/embeddings", json=body, headers=KEY)
    again = await client.post("/v1/embeddings", json={**body, "input": "apple pie"}, headers=KEY)
    assert answer.status_code == 200
    data = answer.json()
    assert (data["object"], data["model"]) == ("list", "m")
    assert data["usage"]["prompt_tokens"] == data["usage"]["total_tokens"] > 0
    vectors = np.array([row["embedding"] for row in data["data"]])
    assert [row["index"] for row in data["data"]] == [0, 1, 2]
    assert vectors.shape == (3, 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1)
    np.testing.assert_allclose(again.json()["data"][0]["embedding"], vectors[1])
    assert vectors[0] @ vectors[1] > 0.6 > abs(vectors[0] @ vectors[2])  # shared words


async def test_dimensions_are_honoured(client):
    body = {"model": "m", "input": "x", "dimensions": 8}
    answer = await client.post("/v1/embeddings", json=body, headers=KEY)
    assert len(answer.json()["data"][0]["embedding"]) == 8


async def test_the_key_is_checked(client):
    answer = await client.post("/v1/embeddings", json={"model": "m", "input": "x"})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"input": "x"},
        {"model": "m"},
        {"model": "m", "input": []},
        {"model": "m", "input": [1]},
        {"model": "m", "input": ["x"], "dimensions": 0},
        {"model": "m", "input": "x", "dimensions": "8"},
    ],
)
async def test_a_bad_request_is_a_400(client, body):
    answer = await client.post("/v1/embeddings", json=body, headers=KEY)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
