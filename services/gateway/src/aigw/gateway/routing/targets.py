"""Multi-model routing at request time: which targets a call tries, in which order.

One `TargetRouter` per API and key type, built from the deployed revision's routing policy.
The primary target is chosen by smooth weighted round robin (nginx's algorithm: over any
`sum(weights)` consecutive picks each target gets exactly its share, interleaved) among the
targets that are not suspended; the fallbacks follow in their order, minus suspended ones and
the primary. A target that fails is suspended for `suspend_seconds`, then tried again. When
every target is suspended the fallbacks are tried alone; when they are too, everything is
tried anyway: trying a suspended target beats refusing the call.

The state (round-robin counters, suspensions) lives in this process and starts afresh with
each deployed revision.
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


class TargetRouter:
    __slots__ = (
        "_current",
        "_suspended_until",
        "fallbacks",
        "suspend_seconds",
        "targets",
        "timeout",
    )

    def __init__(
        self,
        targets: tuple[Target, ...],
        fallbacks: tuple[Target, ...],
        timeout: float | None,
        suspend_seconds: float,
    ) -> None:
        self.targets = targets
        self.fallbacks = fallbacks
        self.timeout = timeout
        self.suspend_seconds = suspend_seconds
        self._current = [0] * len(targets)
        self._suspended_until: dict[tuple[str, str | None], float] = {}

    def _policy(self) -> tuple[object, ...]:
        return self.targets, self.fallbacks, self.timeout, self.suspend_seconds

    def __eq__(self, other: object) -> bool:
        """Routers are equal when their policies are (their runtime state aside): two tables
        replayed from the same events compare equal."""
        return isinstance(other, TargetRouter) and self._policy() == other._policy()

    __hash__ = None  # type: ignore[assignment]

    def suspended(self, target: Target, now: float) -> bool:
        until = self._suspended_until.get(target.key)
        if until is None:
            return False
        if until <= now:
            del self._suspended_until[target.key]
            return False
        return True

    def attempts(self, now: float) -> list[Target]:
        """The targets to try for one call, in order."""
        available = [i for i, t in enumerate(self.targets) if not self.suspended(t, now)]
        if available:
            primary = self.targets[self._pick(available)]
            return [primary, *self._fallbacks(primary, now, skip_suspended=True)]
        fallbacks = [f for f in self.fallbacks if not self.suspended(f, now)]
        if fallbacks:
            return fallbacks
        # Everything is suspended: trying beats refusing.
        primary = self.targets[self._pick(range(len(self.targets)))]
        return [primary, *self._fallbacks(primary, now, skip_suspended=False)]

    def _fallbacks(self, primary: Target, now: float, skip_suspended: bool) -> list[Target]:
        return [
            f
            for f in self.fallbacks
            if f.key != primary.key and not (skip_suspended and self.suspended(f, now))
        ]

    def _pick(self, indexes: "list[int] | range") -> int:
        total = 0
        best = -1
        current = self._current
        for i in indexes:
            weight = self.targets[i].weight
            current[i] += weight
            total += weight
            if best < 0 or current[i] > current[best]:
                best = i
        current[best] -= total
        return best

    def failed(self, target: Target, now: float) -> None:
        if self.suspend_seconds > 0:
            self._suspended_until[target.key] = now + self.suspend_seconds
