"""`Embedder` over an OpenAI-compatible `POST /v1/embeddings` endpoint (OpenAI, Mistral, Azure,
an AI API on this platform, or the local model `make run` starts).

The endpoint is the operator's choice (a setting, not a publisher's), so its connections may go
to any address; they use their own small pool, apart from the providers'. Vectors of recent
texts are kept (bounded, by digest), since a guard and a cache often embed the same prompt;
a text's first `MAX_CHARS` characters are embedded.
"""

import asyncio
import collections
import hashlib
import json
from collections.abc import Sequence

from aigw.gateway.client import ANY_ADDRESS, Pool, UpstreamError
from aigw.gateway.embeddings import EmbeddingError, Vectors, unit_rows

MAX_REMEMBERED = 4_096
# what is embedded of a text: embedding models read a few hundred tokens (MiniLM 256), and a
# caller's huge prompt must not become a huge request to a paid endpoint
MAX_CHARS = 8_000


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
        # by the text's digest, so a long text costs 32 bytes here, not its length
        self._known: collections.OrderedDict[bytes, Vectors] = collections.OrderedDict()

    async def embed(self, texts: Sequence[str]) -> Vectors:
        import numpy as np  # here, not at the gateway's start (aigw.gateway.embeddings)

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        clipped = [text[:MAX_CHARS] for text in texts]
        digests = [_digest(text) for text in clipped]
        known = self._known
        missing = {d: text for d, text in zip(digests, clipped, strict=True) if d not in known}
        if missing:
            vectors = await self._fetch(list(missing.values()))
            for digest, vector in zip(missing, vectors, strict=True):
                self._remember(digest, vector)
        return np.stack([known[digest] for digest in digests])

    def _remember(self, digest: bytes, vector: Vectors) -> None:
        self._known[digest] = vector
        self._known.move_to_end(digest)
        while len(self._known) > MAX_REMEMBERED:
            self._known.popitem(last=False)

    async def _fetch(self, texts: list[str]) -> Vectors:
        body = json.dumps({"model": self.model, "input": texts}).encode()
        resp = None
        try:
            async with asyncio.timeout(self.timeout):
                resp = await self._pool.request("POST", self.url, self._headers, body)
                data = await resp.read()
        except BaseException as exc:
            if resp is not None:
                resp.close()  # its pool slot is free again (a partly read answer: not reused)
            if isinstance(exc, UpstreamError | TimeoutError | OSError):
                failed = type(exc).__name__
                raise EmbeddingError(f"the embedding endpoint failed: {failed}") from None
            raise
        resp.release()
        if resp.status != 200:
            raise EmbeddingError(f"the embedding endpoint answered {resp.status}")
        return unit_rows(_vectors(data, len(texts)))

    async def close(self) -> None:
        await self._pool.close()


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _vectors(data: bytes, count: int) -> Vectors:
    """The `data[*].embedding` rows of an embeddings answer, in input order."""
    import numpy as np

    try:
        rows = sorted(json.loads(data)["data"], key=lambda row: row["index"])
        vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
    except (ValueError, KeyError, TypeError) as exc:
        raise EmbeddingError(f"the embedding answer is not usable: {exc}") from None
    if vectors.ndim != 2 or len(vectors) != count:
        raise EmbeddingError("the embedding answer has the wrong shape")
    return vectors
