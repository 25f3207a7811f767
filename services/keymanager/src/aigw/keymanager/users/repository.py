"""Users at rest: username (unique), argon2id password hash and roles."""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.ids import new_id, utcnow

COLLECTION = "users"


class UserRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._coll = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("username", unique=True)

    async def find(self, username: str) -> dict[str, Any] | None:
        return await self._coll.find_one({"username": username})

    async def insert_if_absent(self, username: str, password_hash: str, roles: list[str]) -> bool:
        """True if inserted; False if the user already exists (never overwritten)."""
        doc = {
            "_id": new_id(),
            "username": username,
            "password_hash": password_hash,
            "roles": roles,
            "created_time": utcnow(),
        }
        try:
            await self._coll.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def replace_hash(self, username: str, old_hash: str, new_hash: str) -> None:
        # Conditional on the old hash, so a concurrent password change is not undone.
        await self._coll.update_one(
            {"username": username, "password_hash": old_hash}, {"$set": {"password_hash": new_hash}}
        )
