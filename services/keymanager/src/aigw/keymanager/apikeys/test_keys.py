"""Limits on test keys (keys bound to one API: the portal's "Get Test Key"), shared by every
keymanager process through the store.

- At most `max_live` live (unexpired, unrevoked) test keys per user and API. A live key holds
  one of the pair's `max_live` slot documents (`_id`: user, API, slot number). A new key takes
  a free slot, one that is absent or whose key expired or was revoked, in one atomic write (an
  insert on the unique `_id`, or an update conditional on the holder's expiry), so concurrent
  requests never hold more slots than there are.
- At most `per_minute` new test keys per user (any API) in a window that starts with the
  first one, admitted atomically before anything is issued (aigw.common.ratelimit).

Both refusals are 429 with Retry-After: when the user's earliest live test key for the API
expires, or when the window ends.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict, cast

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.errors import TooManyRequests
from aigw.common.ids import utcnow
from aigw.common.mongo import Document
from aigw.common.ratelimit import Budget, LimitReached, WindowCounter

SLOTS = "test_key_slots"
RATE = "test_key_rate"
RATE_WINDOW = timedelta(minutes=1)


class TestKeyLimited(TooManyRequests):
    """429: a test-key limit; `Retry-After` says when the next key can be had."""

    def __init__(self, message: str, description: str, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(description, retry_after=seconds, message=message)


@dataclass(frozen=True, slots=True)
class TestKeyPolicy:
    max_live: int  # per user and API
    per_minute: int  # new test keys per user


class _Holder(TypedDict):
    owner: str
    api_id: str
    key_id: str
    expires_at: datetime | None  # None: the key never expires, it holds the slot until revoked


class _Slot(_Holder):
    _id: str  # JSON of [owner, API id, slot number]
    slot: int


class TestKeyLimits:
    def __init__(self, db: AsyncDatabase[Document], policy: TestKeyPolicy) -> None:
        self._slots = cast("AsyncCollection[_Slot]", db[SLOTS])
        self._rate = WindowCounter(db[RATE], Budget(limit=policy.per_minute, window=RATE_WINDOW))
        self._policy = policy

    async def ensure_indexes(self) -> None:
        await self._slots.create_index("key_id")
        await self._slots.create_index([("owner", 1), ("api_id", 1)])

    async def admit(
        self, owner: str, api_id: str, key_id: str, expires_at: datetime | None
    ) -> None:
        """Count the request, then give the key a slot; raises TestKeyLimited instead."""
        await self._count_request(owner)
        await self._claim_slot(owner, api_id, key_id, expires_at)

    async def release(self, key_id: str) -> None:
        """The key was revoked (or never stored): its slot is free from now."""
        await self._slots.update_one({"key_id": key_id}, {"$set": {"expires_at": utcnow()}})

    async def _claim_slot(
        self, owner: str, api_id: str, key_id: str, expires_at: datetime | None
    ) -> None:
        holder: _Holder = {
            "owner": owner,
            "api_id": api_id,
            "key_id": key_id,
            "expires_at": expires_at,
        }
        for number in range(self._policy.max_live):
            slot_id = json.dumps([owner, api_id, number])
            try:
                await self._slots.insert_one({"_id": slot_id, "slot": number, **holder})
                return
            except DuplicateKeyError:
                pass
            # a key that never expires (expires_at null) holds its slot until it is revoked
            freed = {"_id": slot_id, "expires_at": {"$lte": utcnow()}}
            if await self._slots.find_one_and_update(freed, {"$set": holder}) is not None:
                return
        await self._refuse_full(owner, api_id)

    async def _refuse_full(self, owner: str, api_id: str) -> None:
        now = utcnow()
        cap = self._policy.max_live
        query = {"owner": owner, "api_id": api_id, "slot": {"$lt": cap}}  # the ones in use
        slots = await self._slots.find(query).to_list()
        expiries = [e for s in slots if (e := s.get("expires_at")) is not None and e > now]
        description = f"You have {cap} live test keys for API {api_id!r}, the most allowed; "
        if expiries:
            first = min(expiries)
            wait = (first - now).total_seconds()
            description += f"the next one expires at {first.isoformat()} (in {math.ceil(wait)} s)"
        else:
            wait = RATE_WINDOW.total_seconds()
            description += "revoke one to get another"
        raise TestKeyLimited("Too many live test keys", description, wait)

    async def _count_request(self, owner: str) -> None:
        try:
            await self._rate.take(owner)
        except LimitReached as exc:
            limit = self._policy.per_minute
            description = (
                f"At most {limit} test keys a minute per user; retry in {exc.retry_after} s"
            )
            raise TestKeyLimited(
                "Too many test keys requested", description, exc.retry_after
            ) from None
