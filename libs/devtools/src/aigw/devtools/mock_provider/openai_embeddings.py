"""OpenAI embeddings (`POST <any prefix>/embeddings`): deterministic vectors for the plumbing
(a gateway's embedder, its errors and its order), not for meaning: each word of a text adds a
fixed pseudo-random vector (feature hashing), so texts with the same words point the same way
and a text with none of another's words is nearly orthogonal to it. Rows are unit length, in
the order of `input` (a string or a list of strings), `dimensions` long (default 64)."""

import hashlib
import json

import numpy as np

from aigw.devtools.mock_provider.asgi import Send, json_response
from aigw.devtools.mock_provider.call import Call
from aigw.devtools.mock_provider.content import count_tokens
from aigw.devtools.mock_provider.openai_api import error, unknown_path

DEFAULT_DIMENSIONS = 64
MAX_DIMENSIONS = 4_096
MAX_INPUTS = 2_048


def word_vector(word: str, dimensions: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dimensions)


def embedding(text: str, dimensions: int) -> list[float]:
    total = np.zeros(dimensions)
    for word in text.lower().split():
        total += word_vector(word.strip(".,;:!?\"'()"), dimensions)
    norm = float(np.linalg.norm(total))
    if norm == 0:  # no words: a fixed direction, still of length 1
        total[0], norm = 1.0, 1.0
    return [float(x) for x in total / norm]


def _problem(body: object) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("model"), str):
        return "'model' is required"
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return "'input' must be a string or a non-empty array of strings"
    if len(texts) > MAX_INPUTS:
        return f"at most {MAX_INPUTS} inputs"
    dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
        return f"'dimensions' must be an integer from 1 to {MAX_DIMENSIONS}"
    return None


async def handle(call: Call, send: Send) -> None:
    request = call.request
    if request.method != "POST":
        await unknown_path(call, send)
        return
    if problem := _problem(request.json):
        await error(send, 400, problem)
        return
    body = request.json
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
    tokens = sum(count_tokens(text) for text in texts)
    answer = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": embedding(text, dimensions)}
            for i, text in enumerate(texts)
        ],
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    await json_response(send, 200, json.dumps(answer).encode())
