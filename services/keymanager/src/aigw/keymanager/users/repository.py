"""Users at rest: username (unique), argon2id password hash, roles, `disabled` and
`token_version` (raised by every change to the account, so tokens minted before it no longer
stand). Every write carries its `aigw.user.*` event (transactional outbox).

A deleted user stays as a tombstone (`deleted`, without hash or roles) that keeps its name:
devportal's applications and publisher's APIs name their owner by username, so a new account
of that name would inherit them. Tombstones are invisible to every read below."""

from datetime import datetime
from typing import Any, NotRequired, TypedDict, cast

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.mongo import Document
from aigw.common.outbox import staged, with_outbox

COLLECTION = "users"
ADMIN_ROLE = "admin"
CREDENTIALS_PENDING = "credentials_pending"
_PUBLIC = {"username": 1, "roles": 1, "created_time": 1, "disabled": 1}
_LIVE: dict[str, Any] = {"deleted": {"$ne": True}}
_ENABLED_ADMIN: dict[str, Any] = {**_LIVE, "roles": ADMIN_ROLE, "disabled": {"$ne": True}}


class PublicUser(TypedDict):
    """What may be shown of an account: never its password hash."""

    _id: str
    username: str
    roles: list[str]
    disabled: NotRequired[bool]  # absent: stored before accounts could be disabled
    created_time: datetime


class UserDoc(PublicUser):
    """A live account as stored (tombstones are never read: see above)."""

    password_hash: str
    token_version: NotRequired[int]  # absent: stored before versions, read as 0


class AccountFields(TypedDict, total=False):
    """What a change to an account may set (its token version goes up with it)."""

    roles: list[str]
    disabled: bool
    password_hash: str


class UserRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = cast("AsyncCollection[UserDoc]", db[COLLECTION])

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("username", unique=True)

    async def find(self, username: str) -> UserDoc | None:
        return await self._coll.find_one({"username": username, **_LIVE})

    async def list_all(self) -> list[PublicUser]:
        return [user async for user in self._coll.find(_LIVE, _PUBLIC).sort("username", 1)]

    async def insert_if_absent(
        self, username: str, password_hash: str, roles: list[str], *events: Envelope
    ) -> PublicUser | None:
        """The new user (without its hash), or None if the name is taken (never overwritten)."""
        doc: UserDoc = {
            "_id": new_id(),
            "username": username,
            "password_hash": password_hash,
            "roles": roles,
            "disabled": False,
            "token_version": 0,
            "created_time": utcnow_ms(),
        }
        try:
            await self._coll.insert_one(with_outbox(doc, *events))
        except DuplicateKeyError:
            return None
        return _public(doc)

    async def replace_hash(self, username: str, old_hash: str, new_hash: str) -> None:
        # Conditional on the old hash, so a concurrent password change is not undone.
        await self._coll.update_one(
            {"username": username, "password_hash": old_hash}, {"$set": {"password_hash": new_hash}}
        )

    async def change(
        self, expected: UserDoc, fields: AccountFields, event: Envelope
    ) -> UserDoc | None:
        """Sets `fields` and raises the token version, if the account is still as `expected`
        (the document it was decided on: same token version), with its event. The account
        after the change, or None if it changed (or went) in between."""
        return await self._coll.find_one_and_update(
            {"_id": expected["_id"], **_version_is(expected), **_LIVE},
            {"$set": {**fields}, "$inc": {"token_version": 1}, **staged(event)},
            return_document=ReturnDocument.AFTER,
        )

    async def tombstone(self, expected: UserDoc, event: Envelope) -> bool:
        """Deletes the account (if still as `expected`), keeping its name taken."""
        result = await self._coll.update_one(
            {"_id": expected["_id"], **_version_is(expected), **_LIVE},
            {
                "$set": {
                    "deleted": True,
                    "deleted_time": utcnow_ms(),
                    "disabled": True,
                    # its keys and clients are revoked next (aigw.keymanager.users.offboarding)
                    CREDENTIALS_PENDING: True,
                },
                "$unset": {"password_hash": "", "roles": ""},
                "$inc": {"token_version": 1},
                **staged(event),
            },
        )
        return result.modified_count == 1

    async def pending_credential_revocations(self) -> list[str]:
        """Deleted accounts whose keys and clients may not all be revoked yet."""
        docs = self._coll.find({"deleted": True, CREDENTIALS_PENDING: True}, {"username": 1})
        return [doc["username"] async for doc in docs]

    async def credentials_revoked(self, username: str) -> None:
        await self._coll.update_one(
            {"username": username, "deleted": True}, {"$unset": {CREDENTIALS_PENDING: ""}}
        )

    async def other_enabled_admins(self, username: str) -> int:
        return await self._coll.count_documents({**_ENABLED_ADMIN, "username": {"$ne": username}})


def _public(user: UserDoc) -> PublicUser:
    return {
        "_id": user["_id"],
        "username": user["username"],
        "roles": user["roles"],
        "disabled": user.get("disabled", False),
        "created_time": user["created_time"],
    }


def _version_is(doc: UserDoc) -> dict[str, Any]:
    """Matches the token version `doc` had (accounts from before versions have none: 0)."""
    version = doc.get("token_version", 0)
    if version:
        return {"token_version": version}
    return {"$or": [{"token_version": 0}, {"token_version": {"$exists": False}}]}
