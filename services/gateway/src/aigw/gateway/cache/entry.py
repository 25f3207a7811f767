"""A cached answer as it is stored in the bucket and kept in memory.

The value is JSON: the answer's status, content type and body (a whole JSON answer; a stream
is stored as the JSON answer it adds up to, see `replay`), what it cost (its usage, reported
as the tokens a hit saves), when it was stored and until when it may be served, and for
semantic mode the last user message's embedding. The bucket key and the writing gateway's
signature travel beside it (the message's subject and headers, see `shared`).
"""

import base64
import json
from dataclasses import dataclass

from aigw.gateway.embeddings import Vectors

FORMAT = 1
_OVERHEAD = 256  # bytes an entry costs in memory besides its body and vector


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    key: str
    partition: str
    status: int
    content_type: str
    body: bytes
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    stored_at: float  # unix seconds
    expires_at: float  # the TTL of the API when it was stored
    vector: Vectors | None = None  # semantic: shape (dimensions,), unit length

    @property
    def size(self) -> int:
        vector = 0 if self.vector is None else self.vector.nbytes
        return len(self.body) + vector + len(self.key) + _OVERHEAD

    def fresh(self, now: float, ttl_seconds: int) -> bool:
        """Still servable: within the TTL it was stored with and the API's current one."""
        return now < self.expires_at and now < self.stored_at + ttl_seconds


def encode(answer: CachedAnswer) -> bytes:
    vector = None if answer.vector is None else _b64(answer.vector.astype("<f4").tobytes())
    return json.dumps(
        {
            "v": FORMAT,
            "partition": answer.partition,
            "status": answer.status,
            "contentType": answer.content_type,
            "body": _b64(answer.body),
            "usage": [answer.prompt_tokens, answer.completion_tokens, answer.total_tokens],
            "storedAt": answer.stored_at,
            "expiresAt": answer.expires_at,
            "vector": vector,
        },
        separators=(",", ":"),
    ).encode()


def decode(key: str, data: bytes) -> CachedAnswer:
    """The entry stored under `key`; ValueError if it is malformed or not this key's."""
    try:
        value = json.loads(data)
        if value["v"] != FORMAT:
            raise ValueError(f"entry format {value['v']!r}")
        prompt, completion, total = (int(n) for n in value["usage"])
        raw_vector = value["vector"]
        vector = None
        if raw_vector is not None:
            import numpy as np  # only a semantic entry has a vector

            vector = np.frombuffer(base64.b64decode(raw_vector), dtype="<f4").astype(np.float32)
        answer = CachedAnswer(
            key=key,
            partition=str(value["partition"]),
            status=int(value["status"]),
            content_type=str(value["contentType"]),
            body=base64.b64decode(value["body"]),
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total,
            stored_at=float(value["storedAt"]),
            expires_at=float(value["expiresAt"]),
            vector=vector,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed cache entry: {exc}") from None
    if not _belongs(answer):
        raise ValueError("the entry's partition is not its key's")
    return answer


def _belongs(answer: CachedAnswer) -> bool:
    """An exact entry is its own partition; a semantic one's key starts with it and has a
    vector (so a signed entry cannot be read into another conversation's partition)."""
    if answer.key.startswith("x."):
        return answer.partition == answer.key and answer.vector is None
    return answer.key.startswith(f"s.{answer.partition}.") and answer.vector is not None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
