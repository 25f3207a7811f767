"""The `subscription_policies` collection: one document per plan, each write staging its event.

`name_key` (unique) is the plan's name while it lives and "deleted:<id>" once deleted, so a name
is free again at once even though the document lingers until the relay has sent its last event.
`policy_seeds` remembers which default plans were ever seeded, so a default an admin deleted
does not come back at the next start.
"""

import contextlib
from datetime import datetime
from typing import TypedDict, cast

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope, QuotaUnit
from aigw.common.mongo import Document, Update
from aigw.common.outbox import DELETED, NOT_DELETED, OUTBOX, with_outbox

COLLECTION = "subscription_policies"
SEEDS = "policy_seeds"


class LimitDoc(TypedDict):
    unit: QuotaUnit
    requests: int | None
    total_tokens: int | None
    prompt_tokens: int | None
    completion_tokens: int | None


class PolicyDefinition(TypedDict):
    """What PUT replaces: everything but the name."""

    description: str
    limits: list[LimitDoc]
    default_completion_tokens: int


class PolicyDoc(PolicyDefinition):
    _id: str
    name: str
    created_time: datetime
    updated_time: datetime


class StoredPolicy(PolicyDoc):
    name_key: str  # see above


class _Seed(TypedDict):
    _id: str  # the default plan's name


_NO_OUTBOX = {OUTBOX: 0}


class PolicyRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = cast("AsyncCollection[StoredPolicy]", db[COLLECTION])
        self._seeds = cast("AsyncCollection[_Seed]", db[SEEDS])

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("name_key", unique=True, name="name_key_unique")

    async def insert(self, policy: PolicyDoc, *events: Envelope) -> StoredPolicy:
        """The plan as stored; raises pymongo's DuplicateKeyError when the name is taken."""
        doc: StoredPolicy = {**policy, "name_key": policy["name"]}
        await self._coll.insert_one(with_outbox(doc, *events))
        return doc

    async def get(self, name: str) -> StoredPolicy | None:
        return await self._coll.find_one({"name_key": name, **NOT_DELETED}, _NO_OUTBOX)

    async def list_all(self) -> list[StoredPolicy]:
        cursor = self._coll.find(NOT_DELETED, _NO_OUTBOX).sort("created_time", 1)
        return [doc async for doc in cursor]

    async def existing(self, names: list[str]) -> set[str]:
        cursor = self._coll.find({"name_key": {"$in": names}, **NOT_DELETED}, {"name": 1})
        return {doc["name"] async for doc in cursor}

    async def change(self, name: str, update: Update) -> StoredPolicy | None:
        """Apply `update` to the live plan; None if there is none by that name."""
        return await self._coll.find_one_and_update(
            {"name_key": name, **NOT_DELETED},
            update,
            projection=_NO_OUTBOX,
            return_document=ReturnDocument.AFTER,
        )

    async def retire(self, doc_id: str, fields: Update, staged_events: Update) -> bool:
        """Mark the plan deleted and free its name, staging its events; False if it is gone."""
        marks = {**fields, DELETED: True, "name_key": f"deleted:{doc_id}"}
        result = await self._coll.update_one(
            {"_id": doc_id, **NOT_DELETED}, {"$set": marks, **staged_events}
        )
        return result.modified_count == 1

    async def was_seeded(self, name: str) -> bool:
        return await self._seeds.find_one({"_id": name}) is not None

    async def mark_seeded(self, name: str) -> None:
        # another publisher process may have seeded it at the same time
        with contextlib.suppress(DuplicateKeyError):
            await self._seeds.insert_one({"_id": name})
