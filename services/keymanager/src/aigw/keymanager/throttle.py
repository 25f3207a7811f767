"""Login throttling, shared by every keymanager process through the store.

The scheme follows OWASP's advice (Authentication cheat sheet: lock per account *and* per
source, with the account-wide lock at a much higher threshold). Every attempt is counted
against three budgets per window *before* its password is checked
(`aigw.common.ratelimit`), so a concurrent burst gets no more guesses than a sequential one:

- per (username, source), `max_failures`: what a user who mistypes meets, and a stranger
  guessing one account from one address; its failures slow each next one down (doubling up
  to `max_delay`) and the failure that reaches the limit locks the pair for `lock`;
- per source, `source_max_failures`, over every username: one address spraying names;
- per username, `user_max_failures`, over every source: caps a distributed guesser. It is
  much higher than the others, so a stranger's address is locked long before the account is:
  locking a name for everyone takes `user_max_failures / source_max_failures` addresses
  within the window at the very least, and lasts only `lock` as well.

A spent or locked budget answers 429 with Retry-After after the longest delay, without
checking the password, even the right one. Refused attempts are not counted, so a lock ends
on time. A success clears the (username, source) count and gives its attempt back to the
other two budgets (a success is no failure). Unknown usernames go through exactly the same
steps and timing, so nothing reveals whether an account exists. The source is the client's
address as `aigw.common.client_address` sees it: behind a proxy that is not in
AIGW_TRUSTED_PROXIES, everyone behind the proxy shares one source budget.
"""

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.errors import TooManyRequests
from aigw.common.mongo import Document
from aigw.common.ratelimit import Budget, LimitReached, WindowCounter

COLLECTION = "login_throttle"


class LoginLocked(TooManyRequests):
    """429: too many failed logins for this username or from this address."""

    message = "Too many failed logins"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed logins; retry in {retry_after} s", retry_after=retry_after
        )


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta
    lock: timedelta
    max_delay: float
    source_max_failures: int
    user_max_failures: int

    def delay(self, failures: int) -> float:
        """Doubles with each failure and reaches `max_delay` at the locking one."""
        return self.max_delay * 2.0 ** (min(failures, self.max_failures) - self.max_failures)

    def budget(self, limit: int) -> Budget:
        return Budget(limit=limit, window=self.window, lock=self.lock)


def _key(*parts: str) -> str:
    return json.dumps(parts)  # unambiguous whatever a username contains


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """Admitted on every budget; settle it exactly once."""

    policy: ThrottlePolicy
    pair: tuple[WindowCounter, str]
    shared: Sequence[tuple[WindowCounter, str]]  # per source, per username

    async def failed(self) -> None:
        for counter, key in self.shared:
            await counter.fail(key)
        counter, key = self.pair
        await asyncio.sleep(self.policy.delay(await counter.fail(key)))

    async def succeeded(self) -> None:
        await self.pair[0].clear(self.pair[1])
        for counter, key in self.shared:
            await counter.give_back(key)

    async def abandoned(self) -> None:
        """Neither outcome (an error while checking): the attempt does not count."""
        for counter, key in (*self.shared, self.pair):
            await counter.give_back(key)


class LoginThrottle:
    def __init__(self, db: AsyncDatabase[Document], policy: ThrottlePolicy) -> None:
        coll = db[COLLECTION]
        self._policy = policy
        self._by_source = WindowCounter(coll, policy.budget(policy.source_max_failures))
        self._by_user = WindowCounter(coll, policy.budget(policy.user_max_failures))
        self._by_pair = WindowCounter(coll, policy.budget(policy.max_failures))

    async def admit(self, username: str, source: str) -> LoginAttempt:
        """Takes one attempt from each budget, or gives back what it took and raises
        LoginLocked (after the longest delay) if any is spent."""
        budgets = [
            (self._by_source, _key("source", source)),
            (self._by_user, _key("user", username)),
            (self._by_pair, _key("pair", username, source)),
        ]
        taken: list[tuple[WindowCounter, str]] = []
        try:
            for counter, key in budgets:
                await counter.take(key)
                taken.append((counter, key))
        except LimitReached as exc:
            for counter, key in taken:
                await counter.give_back(key)
            await asyncio.sleep(self._policy.max_delay)
            raise LoginLocked(exc.retry_after) from None
        return LoginAttempt(self._policy, pair=budgets[2], shared=budgets[:2])
