"""Text embeddings for the semantic guardrail and the semantic response cache.

The gateway calls an OpenAI-compatible `POST /v1/embeddings` endpoint the deployment
configures; `Embedder` is what the policies see of it: unit-length vectors (so cosine
similarity is a dot product), one row per text, in the texts' order.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# numpy is imported where vectors are made, not at start: the semantic cache and guardrail are
# off for most APIs, and numpy was a third of a second of every gateway's start
type Vectors = npt.NDArray[np.float32]  # shape (texts, dimensions), each row of length 1


class EmbeddingError(Exception):
    """The embedding endpoint could not be reached or answered something unusable."""


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> Vectors: ...


def unit_rows(vectors: Vectors) -> Vectors:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32, copy=False)
