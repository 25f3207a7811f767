"""Login throttling per username, shared by every keymanager process through the store.

One document per username that failed recently: `{_id: username, failures, window_start,
locked_until}`. Failures within the window are counted atomically; each failed attempt is
slowed down a little more (doubling up to `max_delay`), and the failure that reaches the
limit locks the name for `lock` seconds: every attempt then answers 429 with Retry-After,
even with the right password. After the lock the real user can log in again, and a success
clears the record. Unknown usernames are treated exactly alike, so nothing reveals whether
an account exists.
"""

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.errors import ServiceError
from aigw.common.ids import utcnow

COLLECTION = "login_throttle"


class LoginLocked(ServiceError):
    """429: too many failed logins for this username; `retry_after` in whole seconds."""

    status_code = 429
    message = "Too many failed logins"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed logins for this username; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta
    lock: timedelta
    max_delay: float

    def delay(self, failures: int) -> float:
        """Doubles with each failure and reaches `max_delay` at the locking one."""
        return self.max_delay * 2.0 ** (min(failures, self.max_failures) - self.max_failures)


class LoginThrottle:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], policy: ThrottlePolicy) -> None:
        self._coll = db[COLLECTION]
        self._policy = policy

    async def check(self, username: str) -> bool:
        """Raises LoginLocked (after the longest delay) while the name is locked; True if the
        name has a failure record for `succeeded` to clear."""
        record = await self._coll.find_one({"_id": username})
        if record is None:
            return False
        locked_until: datetime | None = record.get("locked_until")
        if locked_until is not None and locked_until > utcnow():
            await asyncio.sleep(self._policy.max_delay)
            remaining = (locked_until - utcnow()).total_seconds()
            raise LoginLocked(max(1, math.ceil(remaining)))
        return True

    async def failed(self, username: str) -> None:
        """Counts a failure, locks the name when it reaches the limit, then slows the caller."""
        failures = await self._count_failure(username)
        if failures >= self._policy.max_failures:
            await self._lock(username)
        await asyncio.sleep(self._policy.delay(failures))

    async def succeeded(self, username: str) -> None:
        await self._coll.delete_one({"_id": username})

    async def _count_failure(self, username: str) -> int:
        """Atomic per attempt: increments inside the window, else starts a new window. A
        concurrent start (duplicate insert) is retried as an increment."""
        while True:
            now = utcnow()
            counted = await self._coll.find_one_and_update(
                {"_id": username, "window_start": {"$gt": now - self._policy.window}},
                {"$inc": {"failures": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if counted is not None:
                return int(counted["failures"])
            if await self._restart_window(username, now):
                return 1

    async def _restart_window(self, username: str, now: datetime) -> bool:
        fresh = {"failures": 1, "window_start": now, "locked_until": None}
        stale = {"_id": username, "window_start": {"$lte": now - self._policy.window}}
        if (await self._coll.update_one(stale, {"$set": fresh})).matched_count:
            return True
        try:
            await self._coll.insert_one({"_id": username, **fresh})
        except DuplicateKeyError:
            return False  # another attempt started the window first: count into it
        return True

    async def _lock(self, username: str) -> None:
        now = utcnow()
        update = {"locked_until": now + self._policy.lock, "failures": 0, "window_start": now}
        await self._coll.update_one({"_id": username}, {"$set": update})
