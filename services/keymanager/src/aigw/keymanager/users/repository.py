"""Users at rest: username (unique), argon2id password hash and roles. A created user carries
its `aigw.user.created` event in the same insert (transactional outbox)."""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.outbox import with_outbox

COLLECTION = "users"
_PUBLIC = {"username": 1, "roles": 1, "created_time": 1}


class UserRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._coll = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("username", unique=True)

    async def find(self, username: str) -> dict[str, Any] | None:
        return await self._coll.find_one({"username": username})

    async def list_all(self) -> list[dict[str, Any]]:
        return await self._coll.find({}, _PUBLIC).sort("username", 1).to_list()

    async def insert_if_absent(
        self, username: str, password_hash: str, roles: list[str], *events: Envelope
    ) -> dict[str, Any] | None:
        """The new user (without its hash), or None if the name is taken (never overwritten)."""
        doc = {
            "_id": new_id(),
            "username": username,
            "password_hash": password_hash,
            "roles": roles,
            "created_time": utcnow_ms(),
        }
        try:
            await self._coll.insert_one(with_outbox(doc, *events))
        except DuplicateKeyError:
            return None
        return {name: doc[name] for name in ("_id", *_PUBLIC)}

    async def replace_hash(self, username: str, old_hash: str, new_hash: str) -> None:
        # Conditional on the old hash, so a concurrent password change is not undone.
        await self._coll.update_one(
            {"username": username, "password_hash": old_hash}, {"$set": {"password_hash": new_hash}}
        )
