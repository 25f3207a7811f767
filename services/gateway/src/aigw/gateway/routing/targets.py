"""Multi-model routing as deployed: the targets a call to an API (per key type) may go to.

A `TargetPolicy` is what the deployed revision's routing policy says, resolved against the
revision's endpoints: the weighted primary targets, the ordered fallbacks, the per-attempt
timeout and how long a failed target rests. It is plain data, built by the event fold; which
target a call tries first (round robin) and which targets rest (suspensions) is per-process
state that the pipeline's plan stage keeps (`aigw.gateway.proxy.balancer`).
"""

from dataclasses import dataclass

from aigw.gateway.routing.upstream import Upstream


@dataclass(frozen=True, slots=True)
class Target:
    endpoint: str
    upstream: Upstream
    model: str | None
    weight: int = 1

    @property
    def key(self) -> tuple[str, str | None]:
        return self.endpoint, self.model


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    targets: tuple[Target, ...]  # never empty
    fallbacks: tuple[Target, ...]
    timeout: float | None  # per attempt, until the status and headers (and a stream's first event)
    suspend_seconds: float
