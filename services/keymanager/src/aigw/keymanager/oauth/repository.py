"""OAuth2 clients and revoked access tokens at rest. A client secret is stored only as its
SHA-256: it is 256 random bits, so a fast hash is enough (no password to brute-force)."""

from datetime import datetime
from typing import Any, TypedDict, cast

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope, KeyType
from aigw.common.ids import utcnow
from aigw.common.mongo import Document
from aigw.common.outbox import staged, with_outbox

CLIENTS = "oauth_clients"
REVOKED_TOKENS = "revoked_tokens"


def active_slot(application_id: str, key_type: str) -> str:
    """Unique among live clients: one client per application and key type. A revoked client
    moves to a slot of its own, so a plain unique index (no partial index) enforces it."""
    return f"{application_id}:{key_type}"


class ClientDoc(TypedDict):
    """A client as stored (revoking also stamps `revoked_time`, which nothing reads back)."""

    _id: str  # the client id: public (it is in every token), but unguessable all the same
    secret_hash: str
    application_id: str
    key_type: KeyType
    slot: str  # active_slot(...) while live, "revoked:<client id>" once revoked
    created_time: datetime
    revoked: bool
    owner: str


class RevokedTokenDoc(TypedDict):
    _id: str  # the token's jti
    client_id: str
    expires_at: datetime
    revoked_time: datetime


class ClientRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = cast("AsyncCollection[ClientDoc]", db[CLIENTS])

    async def ensure_indexes(self) -> None:
        await self._coll.create_index("slot", unique=True)
        await self._coll.create_index([("owner", 1), ("application_id", 1)])

    async def insert(self, doc: ClientDoc, event: Envelope) -> bool:
        """False if the application already has a live client of this key type."""
        try:
            await self._coll.insert_one(with_outbox(doc, event))
        except DuplicateKeyError:
            return False
        return True

    async def find(self, client_id: str) -> ClientDoc | None:
        return await self._coll.find_one({"_id": client_id})

    async def find_many(self, owner: str | None, application_id: str | None) -> list[ClientDoc]:
        query: dict[str, Any] = {}
        if owner is not None:
            query["owner"] = owner
        if application_id is not None:
            query["application_id"] = application_id
        return await self._coll.find(query).sort("created_time", 1).to_list()

    async def mark_revoked(self, client_id: str, event: Envelope) -> bool:
        """Revoke and stage the event in one write; False if it was already revoked."""
        result = await self._coll.update_one(
            {"_id": client_id, "revoked": {"$ne": True}},
            {
                "$set": {"revoked": True, "revoked_time": utcnow(), "slot": f"revoked:{client_id}"},
                **staged(event),
            },
        )
        return result.modified_count == 1


class RevokedTokenRepository:
    """Revoked access tokens by `jti` (never the token itself), each with its event."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = cast("AsyncCollection[RevokedTokenDoc]", db[REVOKED_TOKENS])

    async def insert(self, doc: RevokedTokenDoc, event: Envelope) -> bool:
        """False if this token was already revoked (no second event)."""
        try:
            await self._coll.insert_one(with_outbox(doc, event))
        except DuplicateKeyError:
            return False
        return True
