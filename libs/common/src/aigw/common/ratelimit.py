"""Budgets kept in the store, so every process of a service agrees: at most `limit` attempts
per key within a window, admitted atomically *before* the work they stand for is done.

One document per key: `{_id, attempts, failures, window_start, locked_until}`. `take` admits
an attempt with one `find_one_and_update` that increments `attempts` only while it is below
the limit, the window is live and the key is not locked; so N concurrent callers admit at most
`limit` of them, the others get LimitReached unserved. Refused attempts are not counted, so a
lock ends on time however hard someone keeps knocking.

An admitted attempt may be given back (it turned out not to count, e.g. a correct password)
or settled as a failure; with a `lock`, the failure that reaches the limit locks the key for
that long and starts the count again. Failures are counted apart from attempts because an
attempt's place in the queue says nothing about how many failed before it.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.errors import TooManyRequests
from aigw.common.ids import utcnow


class LimitReached(Exception):
    """The key's budget is spent (or locked); `retry_after` in whole seconds, at least 1."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Budget:
    limit: int
    window: timedelta
    lock: timedelta | None = None  # None: no failure counting, the window alone resets


def _unlocked(now: datetime) -> dict[str, Any]:
    return {"$or": [{"locked_until": None}, {"locked_until": {"$lte": now}}]}


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


class WindowCounter:
    def __init__(self, coll: AsyncCollection[dict[str, Any]], budget: Budget) -> None:
        self._coll = coll
        self._budget = budget

    async def take(self, key: str) -> None:
        """Admits one attempt or raises LimitReached."""
        budget = self._budget
        while True:
            now = utcnow()
            live = {"window_start": {"$gt": now - budget.window}}
            admitted = await self._coll.find_one_and_update(
                {"_id": key, **live, "attempts": {"$lt": budget.limit}, **_unlocked(now)},
                {"$inc": {"attempts": 1}},
            )
            if admitted is not None:
                return
            record = await self._coll.find_one({"_id": key})
            if record is None or self._stale(record, now):
                if await self._restart(key, now):
                    return
                continue  # another attempt restarted it first: count into that window
            locked_until: datetime | None = record.get("locked_until")
            if locked_until is not None and locked_until > now:
                raise LimitReached(_seconds(locked_until - now))
            if record["attempts"] >= budget.limit:
                raise LimitReached(self._until_free(record, now))
            # changed between the two reads (given back, unlocked): try again

    async def give_back(self, key: str) -> None:
        await self._coll.update_one(
            {"_id": key, "attempts": {"$gt": 0}}, {"$inc": {"attempts": -1}}
        )

    async def fail(self, key: str) -> int:
        """Settles an admitted attempt as a failure: the failures now counted in the window
        (the one that reaches the limit locks the key and starts the count again)."""
        record = await self._coll.find_one_and_update(
            {"_id": key}, {"$inc": {"failures": 1}}, return_document=ReturnDocument.AFTER
        )
        if record is None:
            return 0  # cleared meanwhile
        failures = int(record["failures"])
        if self._budget.lock is not None and failures >= self._budget.limit:
            now = utcnow()
            fresh = {"attempts": 0, "failures": 0, "window_start": now}
            await self._coll.update_one(
                {"_id": key, "failures": {"$gte": self._budget.limit}},
                {"$set": {**fresh, "locked_until": now + self._budget.lock}},
            )
        return failures

    async def clear(self, key: str) -> None:
        await self._coll.delete_one({"_id": key})

    def _stale(self, record: dict[str, Any], now: datetime) -> bool:
        locked_until: datetime | None = record.get("locked_until")
        locked = locked_until is not None and locked_until > now
        return not locked and record["window_start"] <= now - self._budget.window

    def _until_free(self, record: dict[str, Any], now: datetime) -> int:
        """Spent by attempts still in flight: free at the window's end, or, if they fail,
        after the lock they cause, whichever is sooner."""
        wait = record["window_start"] + self._budget.window - now
        if self._budget.lock is not None:
            wait = min(wait, self._budget.lock)
        return _seconds(wait)

    async def _restart(self, key: str, now: datetime) -> bool:
        fresh = {"attempts": 1, "failures": 0, "window_start": now, "locked_until": None}
        stale = {"_id": key, "window_start": {"$lte": now - self._budget.window}, **_unlocked(now)}
        if (await self._coll.update_one(stale, {"$set": fresh})).matched_count:
            return True
        try:
            await self._coll.insert_one({"_id": key, **fresh})
        except DuplicateKeyError:
            return False
        return True


SIGNUP_COLLECTION = "signup_rate"


async def count_signup(db: AsyncDatabase[dict[str, Any]], source: str, per_minute: int) -> None:
    """One sign-up from `source`; past `per_minute` of them TooManyRequests (429 with
    Retry-After), the same in devportal and keymanager."""
    budget = Budget(limit=per_minute, window=timedelta(minutes=1))
    try:
        await WindowCounter(db[SIGNUP_COLLECTION], budget).take(source)
    except LimitReached as exc:
        raise TooManyRequests(
            f"Too many sign-ups from this address; retry in {exc.retry_after} s",
            retry_after=exc.retry_after,
            message="Too many sign-ups",
        ) from None
