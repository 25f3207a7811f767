"""Signing keys at rest: one document, `_id` "current", shared by every keymanager process.

    {"active": {"kid", "sealed_private_key"},        # signs new tokens; SecretBox ciphertext
     "public_keys": [jwk, ...],                       # the active key and retiring ones
     "retiring": [{"kid", "valid_until"}, ...],       # previous keys, verifying until then
     "announced": true, "_outbox": [...]}

Every change (the first key included) stages `aigw.signingkey.rotated` in the same write,
so gateways learn the keys from the event stream alone.
"""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, NotRequired, TypedDict, cast

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.events import Envelope
from aigw.common.mongo import Document
from aigw.common.outbox import OUTBOX, staged, with_outbox
from aigw.keymanager.signing.keys import Jwk

COLLECTION = "signing_keys"
CURRENT = "current"
_NO_OUTBOX = {OUTBOX: 0}


class SealedKey(TypedDict):
    kid: str
    sealed_private_key: str  # SecretBox ciphertext, bound to the kid


class Retiring(TypedDict):
    kid: str
    valid_until: datetime


class KeyRingDoc(TypedDict):
    _id: str  # always CURRENT
    active: SealedKey
    public_keys: list[Jwk]
    retiring: NotRequired[list[Retiring]]  # absent: stored before keys were retired
    announced: NotRequired[bool]  # absent: stored before keys were announced
    created_time: NotRequired[datetime]
    rotated_time: NotRequired[datetime]


class Rotation(TypedDict):
    """What a rotation writes: the new active key and the keys that still verify."""

    active: SealedKey
    retiring: list[Retiring]
    public_keys: list[Jwk]
    rotated_time: datetime


class SigningKeyRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._coll = cast("AsyncCollection[KeyRingDoc]", db[COLLECTION])
        self._raw = db[COLLECTION]

    async def current(self) -> KeyRingDoc | None:
        return await self._coll.find_one({"_id": CURRENT}, _NO_OUTBOX)

    async def insert(self, doc: KeyRingDoc, event: Envelope) -> bool:
        """False if another process stored the first key before."""
        try:
            await self._coll.insert_one(with_outbox(doc, event))
        except DuplicateKeyError:
            return False
        return True

    async def announce(self, event: Envelope) -> None:
        """Stage the event of a key stored before keys were announced, once."""
        await self._coll.update_one(
            {"_id": CURRENT, "announced": {"$ne": True}},
            {"$set": {"announced": True}, **staged(event)},
        )

    async def rotate(self, previous_kid: str, rotation: Rotation, event: Envelope) -> bool:
        """Write `rotation` with its event if `previous_kid` is still the active key; False
        if another rotation came first."""
        result = await self._coll.update_one(
            {"_id": CURRENT, "active.kid": previous_kid}, {"$set": {**rotation}, **staged(event)}
        )
        return result.matched_count == 1

    async def documents(self) -> AsyncIterator[Document]:
        """Every document of the collection as stored, whatever its layout (for a walk over
        all the sealed keys it holds, now and as the layout grows)."""
        async for doc in self._raw.find({}):
            yield doc

    async def reseal(self, doc_id: Any, field: str, sealed: str, resealed: str) -> bool:
        """Replace the ciphertext at `field` (a dotted path) if it is still `sealed`."""
        query = {"_id": doc_id, field: sealed}
        result = await self._raw.update_one(query, {"$set": {field: resealed}})
        return result.modified_count == 1
