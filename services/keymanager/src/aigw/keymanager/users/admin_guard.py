"""One lease, shared by every keymanager process through the store, held while a change that
can take an admin away (demote, disable, delete) is checked and written. Without it two admins
demoting each other at once would each see the other as the remaining admin, and the
platform would be left with none."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.errors import Unavailable
from aigw.common.ids import new_id, utcnow
from aigw.common.mongo import Document

COLLECTION = "user_admin_guard"
_LEASE = timedelta(seconds=10)  # a crashed holder blocks the others this long at most
_WAIT = 5.0
_POLL = 0.02


class AdminGuard:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = db[COLLECTION]

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        holder = new_id()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _WAIT
        while not await self._take(holder):
            if loop.time() > deadline:
                raise Unavailable("Another change to the admins is under way; try again")
            await asyncio.sleep(_POLL)
        try:
            yield
        finally:
            await self._coll.delete_one({"_id": "admins", "holder": holder})

    async def _take(self, holder: str) -> bool:
        now = utcnow()
        try:
            # matches a lapsed lease, or inserts the first one; a live lease makes the
            # upsert collide with its _id
            await self._coll.update_one(
                {"_id": "admins", "until": {"$lt": now}},
                {"$set": {"until": now + _LEASE, "holder": holder}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True
