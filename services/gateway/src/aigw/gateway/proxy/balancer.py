"""Which targets a routed call tries, in which order: the plan stage's per-process state.

The primary target is chosen by smooth weighted round robin (nginx's algorithm: over any
`sum(weights)` consecutive picks each target gets exactly its share, interleaved) among the
targets that are not suspended; the fallbacks follow in their order, minus suspended ones and
the primary. A target that fails is suspended for `suspend_seconds`, then tried again. When
every target is suspended the fallbacks are tried alone; when they are too, everything is
tried anyway: trying a suspended target beats refusing the call.

The state (round-robin counters, suspensions) lives in this process, one `Balancer` per
deployed routing policy: a new revision starts afresh.
"""

from aigw.gateway.routing.targets import Target, TargetPolicy

MAX_BALANCERS = 10_000  # policies of revisions no longer deployed are forgotten past this


class Balancer:
    __slots__ = ("_current", "_suspended_until", "policy")

    def __init__(self, policy: TargetPolicy) -> None:
        self.policy = policy
        self._current = [0] * len(policy.targets)
        self._suspended_until: dict[tuple[str, str | None], float] = {}

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
        targets = self.policy.targets
        available = [i for i, t in enumerate(targets) if not self.suspended(t, now)]
        if available:
            primary = targets[self._pick(available)]
            return [primary, *self._fallbacks(primary, now, skip_suspended=True)]
        fallbacks = [f for f in self.policy.fallbacks if not self.suspended(f, now)]
        if fallbacks:
            return fallbacks
        # Everything is suspended: trying beats refusing.
        primary = targets[self._pick(range(len(targets)))]
        return [primary, *self._fallbacks(primary, now, skip_suspended=False)]

    def _fallbacks(self, primary: Target, now: float, skip_suspended: bool) -> list[Target]:
        return [
            f
            for f in self.policy.fallbacks
            if f.key != primary.key and not (skip_suspended and self.suspended(f, now))
        ]

    def _pick(self, indexes: "list[int] | range") -> int:
        total = 0
        best = -1
        current = self._current
        targets = self.policy.targets
        for i in indexes:
            weight = targets[i].weight
            current[i] += weight
            total += weight
            if best < 0 or current[i] > current[best]:
                best = i
        current[best] -= total
        return best

    def failed(self, target: Target, now: float) -> None:
        if self.policy.suspend_seconds > 0:
            self._suspended_until[target.key] = now + self.policy.suspend_seconds


class Balancers:
    """One balancer per deployed routing policy (by identity: each revision's is its own)."""

    def __init__(self) -> None:
        self._by_policy: dict[int, Balancer] = {}

    def for_policy(self, policy: TargetPolicy) -> Balancer:
        balancer = self._by_policy.get(id(policy))
        if balancer is None or balancer.policy is not policy:
            if len(self._by_policy) >= MAX_BALANCERS:
                self._by_policy.clear()
            balancer = self._by_policy[id(policy)] = Balancer(policy)
        return balancer
