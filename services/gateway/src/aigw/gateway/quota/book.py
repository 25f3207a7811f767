"""Quota counters per subscription (application + API) and window, shared between gateway
processes (`quota.sync`).

Each counter holds four numbers: requests, prompt, completion and total tokens. What a process
charged itself (`own`) and what the other processes report (`others`, their absolute counts)
add up to the window's known use. Token use includes reservations: admission charges an
estimate, settlement replaces it with the provider's counts, a call that failed before the
provider answered gives its tokens back.

Admission rules (documented in the README):
- requests: admitted while `used + 1 <= limit`;
- tokens: admitted while `used < limit`, i.e. the call whose reservation crosses the limit
  still goes (its real count settles afterwards), later ones get 429.
- Across processes, each process assumes every peer charged as much as it did itself since
  the counts all of them have seen (`unconfirmed * peers`): concurrent processes then split
  what is left instead of each spending all of it. Own charges are "confirmed" once they were
  published and every live peer has published after that (so this process also knows what
  the peers charged meanwhile). A call refused only by that assumption waits for the next
  sync tick and is checked again (`QuotaVerdict.retry_after_sync`).
"""

from dataclasses import dataclass

from aigw.common.events import QuotaUnit
from aigw.gateway.routing.plans import (
    TOKEN_KINDS,
    UNIT_SECONDS,
    Plan,
    duration,
    seconds_to_reset,
    window_start,
)

Key = tuple[str, str, QuotaUnit, int]  # application, API, unit, window start
KINDS = ("requests", *TOKEN_KINDS)  # the counter positions
REQUESTS, PROMPT, COMPLETION, TOTAL = range(4)


@dataclass(frozen=True, slots=True)
class Cost:
    requests: int
    prompt: int
    completion: int

    def vector(self) -> tuple[int, int, int, int]:
        return (self.requests, self.prompt, self.completion, self.prompt + self.completion)


@dataclass(frozen=True, slots=True)
class Admission:
    keys: tuple[Key, ...]
    cost: Cost
    headers: list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class QuotaVerdict:
    kind: str  # the exhausted counter: requests, prompt_tokens, ...
    limit: int
    retry_after: int  # seconds to the window's reset
    retry_after_sync: bool  # only the cross-process assumption refused it


class QuotaBook:
    def __init__(self) -> None:
        self.own: dict[Key, list[int]] = {}
        self.sent: dict[Key, tuple[int, ...]] = {}  # own counts published and confirmed
        self.pending: dict[Key, tuple[int, ...]] = {}  # published, not yet confirmed
        self.changed: set[Key] = set()
        self.others: dict[Key, list[int]] = {}
        self.peer_counts: dict[tuple[str, Key], tuple[int, ...]] = {}
        self.peers = 0  # other live gateway processes

    def used(self, key: Key, kind: int) -> int:
        own = self.own.get(key)
        other = self.others.get(key)
        return (own[kind] if own else 0) + (other[kind] if other else 0)

    def _unconfirmed(self, key: Key, kind: int) -> int:
        own = self.own.get(key)
        if own is None or not self.peers:
            return 0
        sent = self.sent.get(key)
        return own[kind] - (sent[kind] if sent else 0)

    def check(self, app: str, api: str, plan: Plan, cost: Cost, now: float) -> QuotaVerdict | None:
        """The first limit the call would break, or None."""
        for limit in plan.limits:
            key = (app, api, limit.unit, window_start(now, limit.unit))
            for kind, name in enumerate(KINDS):
                bound = getattr(limit, name)
                if bound is None:
                    continue
                used = self.used(key, kind)
                extra = 1 if kind == REQUESTS else 0
                conservative = used + self._unconfirmed(key, kind) * self.peers + extra
                if conservative > bound or (not extra and conservative >= bound):
                    exact = used + extra > bound or (not extra and used >= bound)
                    retry = seconds_to_reset(now, limit.unit)
                    return QuotaVerdict(name, bound, retry, retry_after_sync=not exact)
        return None

    def charge(self, app: str, api: str, plan: Plan, cost: Cost, now: float) -> Admission:
        keys = tuple((app, api, unit, window_start(now, unit)) for unit in plan.units)
        self._add(keys, cost.vector())
        return Admission(keys, cost, self.headers(app, api, plan, now))

    def settle(self, admission: Admission, prompt: int, completion: int, total: int) -> None:
        reserved = admission.cost.vector()
        delta = (0, prompt - reserved[PROMPT], completion - reserved[COMPLETION])
        self._add(admission.keys, (*delta, total - reserved[TOTAL]), only_existing=True)

    def release(self, admission: Admission) -> None:
        """Give the token reservation back (the request stays counted)."""
        self._add(admission.keys, tuple(-n for n in admission.cost.vector()[1:]), True, skip=1)

    def _add(
        self,
        keys: tuple[Key, ...],
        delta: tuple[int, ...],
        only_existing: bool = False,
        skip: int = 0,
    ) -> None:
        """Add `delta` (to the counters from position `skip` on) in every window of `keys`."""
        for key in keys:
            counts = self.own.get(key)
            if counts is None:
                if only_existing:
                    continue  # the window has ended and was forgotten
                counts = self.own[key] = [0, 0, 0, 0]
            for offset, amount in enumerate(delta):
                counts[skip + offset] += amount
            self.changed.add(key)

    def headers(self, app: str, api: str, plan: Plan, now: float) -> list[tuple[bytes, bytes]]:
        """OpenAI's x-ratelimit-* headers for the tightest request and token limits."""
        requests: tuple[int, int, int] | None = None  # remaining, limit, reset
        tokens: tuple[int, int, int] | None = None
        for limit in plan.limits:
            key = (app, api, limit.unit, window_start(now, limit.unit))
            reset = seconds_to_reset(now, limit.unit)
            for kind, name in enumerate(KINDS):
                bound = getattr(limit, name)
                if bound is None:
                    continue
                state = (max(0, bound - self.used(key, kind)), bound, reset)
                if kind == REQUESTS:
                    requests = state if requests is None or state < requests else requests
                else:
                    tokens = state if tokens is None or state < tokens else tokens
        return _header_lines("requests", requests) + _header_lines("tokens", tokens)

    # --- other processes ---------------------------------------------------------------------

    def peer_update(self, origin: str, key: Key, counts: tuple[int, ...]) -> None:
        """A peer's absolute counts for one window (idempotent: replaces what it said before)."""
        old = self.peer_counts.get((origin, key), (0, 0, 0, 0))
        self.peer_counts[(origin, key)] = counts
        total = self.others.setdefault(key, [0, 0, 0, 0])
        for kind in range(4):
            total[kind] += counts[kind] - old[kind]

    def take_changes(self, everything: bool, confirmed: bool) -> list[tuple[Key, tuple[int, ...]]]:
        """Own counts to publish: the changed windows (or all). `confirmed`: every peer spoke
        since the last publication, so what it carried counts as known to all."""
        if confirmed:
            self.sent.update(self.pending)
            self.pending.clear()
        keys = list(self.own) if everything else list(self.changed)
        self.changed.clear()
        out = [(key, tuple(self.own[key])) for key in keys]
        self.pending.update(out)
        return out

    def forget_ended(self, now: float) -> None:
        def ended(key: Key) -> bool:
            return key[3] + UNIT_SECONDS[key[2]] <= now

        for table in (self.own, self.sent, self.pending, self.others):
            for key in [k for k in table if ended(k)]:
                del table[key]
        self.changed = {k for k in self.changed if not ended(k)}
        for pair in [p for p in self.peer_counts if ended(p[1])]:
            del self.peer_counts[pair]


def _header_lines(kind: str, state: tuple[int, int, int] | None) -> list[tuple[bytes, bytes]]:
    if state is None:
        return []
    remaining, limit, reset = state
    return [
        (b"x-ratelimit-limit-" + kind.encode(), str(limit).encode()),
        (b"x-ratelimit-remaining-" + kind.encode(), str(remaining).encode()),
        (b"x-ratelimit-reset-" + kind.encode(), duration(reset).encode()),
    ]
