"""An API's response cache: the publisher validates it, deployed revisions carry it, every
gateway serves from the one shared cache (NATS key-value, `aigw.gateway.cache`).

- `mode`: `exact` (the same request) or `semantic` (the same conversation up to a last user
  message similar to a cached one, by embedding cosine similarity of at least `threshold`);
- `ttlSeconds`: how long an answer is served;
- `scope`: `application` (an answer is only served to the application that paid for it) or
  `api` (shared by every caller of the API).

An entry is only a candidate when the model, the system prompt, the tools and response format
and every earlier message are the same (a hash partition): a semantic cache never answers one
conversation with another's turn.
"""

from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from aigw.common.schemas import RequestModel

MAX_TTL_SECONDS = 7 * 86_400
CacheOutcome = Literal["hit", "miss", "bypass"]  # also the answer's `x-aigw-cache`


class ResponseCache(RequestModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["exact", "semantic"]
    ttl_seconds: int = Field(300, ge=1, le=MAX_TTL_SECONDS)
    threshold: float | None = Field(
        None, gt=0, le=1, description="semantic mode: least cosine similarity (default 0.8)"
    )
    scope: Literal["api", "application"] = "application"

    @field_validator("threshold")
    @classmethod
    def _threshold_for_semantic(cls, threshold: float | None, info: ValidationInfo) -> float | None:
        # a field validator, so the 422 names `cache.threshold` (mode is validated before it)
        if threshold is not None and info.data.get("mode") == "exact":
            raise ValueError("threshold applies to semantic mode only")
        return threshold

    @property
    def similarity(self) -> float:
        # measured on tests/data/semantic_pairs.jsonl with the local model (make semantic-eval)
        return 0.8 if self.threshold is None else self.threshold
