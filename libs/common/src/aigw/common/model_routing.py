"""Multi-model routing policies: the publisher validates them, deployed revisions carry them, the
gateway executes them.

Per key type an API may route across targets (an endpoint of the API and a model):

- `targets`: weighted round robin; the request's `model` is rewritten to the chosen target's;
- `fallbacks`: tried in order, within the same request, when the chosen target fails with a
  connection error, a timeout, 429 or 5xx (for streams: only before the first byte was relayed);
- `suspendSeconds`: a target that failed is skipped for this long, then tried again;
- `timeoutSeconds`: how long one target may take to start its answer (status and headers; for
  a stream, its first event).

Endpoint names are `production`, `sandbox` or one of the API's additional endpoints.
"""

from typing import Annotated, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from aigw.common.schemas import CamelModel

ENDPOINT_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
EndpointName = Annotated[str, StringConstraints(pattern=ENDPOINT_NAME_PATTERN)]
# Printable ASCII: a model name is sent in bodies and echoed in the `x-aigw-model` header.
ModelName = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]{1,200}$")]
MAX_TARGETS = 16


class _Frozen(CamelModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RouteTarget(_Frozen):
    endpoint: EndpointName
    model: ModelName | None = Field(
        None, description="the model sent to this target (null: the caller's model, unchanged)"
    )
    weight: int = Field(1, ge=1, le=1000, description="share of round robin (targets only)")

    @property
    def key(self) -> tuple[str, str | None]:
        return self.endpoint, self.model


class RoutingPolicy(_Frozen):
    targets: list[RouteTarget] = Field(min_length=1, max_length=MAX_TARGETS)
    fallbacks: list[RouteTarget] = Field(default_factory=list, max_length=MAX_TARGETS)
    timeout_seconds: float | None = Field(None, gt=0, le=600)
    suspend_seconds: float = Field(30.0, ge=0, le=86_400)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        for name, group in (("targets", self.targets), ("fallbacks", self.fallbacks)):
            keys = [target.key for target in group]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{name} lists the same endpoint and model twice")
        return self

    def endpoints(self) -> set[str]:
        return {target.endpoint for target in (*self.targets, *self.fallbacks)}


class ApiRouting(_Frozen):
    """The routing policy per key type; null: the key type's endpoint, no routing."""

    production: RoutingPolicy | None = None
    sandbox: RoutingPolicy | None = None
