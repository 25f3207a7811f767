"""`Embedder` over an OpenAI-compatible `POST /v1/embeddings` endpoint (OpenAI, Mistral, Azure,
an AI API on this platform, or the local model `make run` starts).

The endpoint is the operator's choice (a setting, not a publisher's), so its connections may go
to any address; they use their own small pool, apart from the providers'. Vectors of recent
texts are kept (bounded), since a guard and a cache often embed the same prompt.
"""

import asyncio
import collections
import json
from collections.abc import Sequence

import numpy as np

from aigw.gateway.client import ANY_ADDRESS, Pool, UpstreamError
from aigw.gateway.embeddings import EmbeddingError, Vectors, unit_rows

MAX_REMEMBERED = 4_096


class HttpEmbedder:
    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 5.0,
        pool: Pool | None = None,
    ) -> None:
        self.url, self.model, self.timeout = url, model, timeout
        self._headers = [("content-type", "application/json"), ("accept", "application/json")]
        if api_key:
            self._headers.append(("authorization", f"Bearer {api_key}"))
        self._pool = pool or Pool(limit=32, connect_timeout=timeout, addresses=ANY_ADDRESS)
        self._known: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()

    async def embed(self, texts: Sequence[str]) -> Vectors:
        missing = list(dict.fromkeys(text for text in texts if text not in self._known))
        if missing:
            for text, vector in zip(missing, await self._fetch(missing), strict=True):
                self._remember(text, vector)
        return np.stack([self._known[text] for text in texts]) if texts else _EMPTY

    def _remember(self, text: str, vector: np.ndarray) -> None:
        self._known[text] = vector
        self._known.move_to_end(text)
        while len(self._known) > MAX_REMEMBERED:
            self._known.popitem(last=False)

    async def _fetch(self, texts: list[str]) -> Vectors:
        body = json.dumps({"model": self.model, "input": texts}).encode()
        try:
            async with asyncio.timeout(self.timeout):
                resp = await self._pool.request("POST", self.url, self._headers, body)
                data = await resp.read()
        except (UpstreamError, TimeoutError, OSError) as exc:
            raise EmbeddingError(f"the embedding endpoint failed: {type(exc).__name__}") from None
        if resp.status != 200:
            raise EmbeddingError(f"the embedding endpoint answered {resp.status}")
        return unit_rows(_vectors(data, len(texts)))

    async def close(self) -> None:
        await self._pool.close()


def _vectors(data: bytes, count: int) -> Vectors:
    """The `data[*].embedding` rows of an embeddings answer, in input order."""
    try:
        rows = sorted(json.loads(data)["data"], key=lambda row: row["index"])
        vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
    except (ValueError, KeyError, TypeError) as exc:
        raise EmbeddingError(f"the embedding answer is not usable: {exc}") from None
    if vectors.ndim != 2 or len(vectors) != count:
        raise EmbeddingError("the embedding answer has the wrong shape")
    return vectors


_EMPTY: Vectors = np.zeros((0, 0), dtype=np.float32)
