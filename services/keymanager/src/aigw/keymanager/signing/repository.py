"""Signing keys at rest: one document, `_id` "current", created once and shared by every
keymanager process. The private key is stored only as a SecretBox ciphertext."""

import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.crypto import SecretBox
from aigw.common.ids import utcnow
from aigw.keymanager.signing.keys import KeyRing, SigningKey

log = logging.getLogger(__name__)

COLLECTION = "signing_keys"
CURRENT = "current"


async def load_or_create(db: AsyncDatabase[dict[str, Any]], box: SecretBox) -> KeyRing:
    coll = db[COLLECTION]
    doc = await coll.find_one({"_id": CURRENT})
    if doc is None:
        doc = await _create(db, box)
    return _to_keyring(doc, box)


async def _create(db: AsyncDatabase[dict[str, Any]], box: SecretBox) -> dict[str, Any]:
    key = SigningKey.generate()
    doc = {
        "_id": CURRENT,
        "active": {"kid": key.kid, "sealed_private_key": key.seal(box)},
        "public_keys": [key.public_jwk()],  # a list so rotation can keep retired keys verifying
        "created_time": utcnow(),
    }
    try:
        await db[COLLECTION].insert_one(doc)
        log.info("generated a new signing key kid=%s", key.kid)
    except DuplicateKeyError:
        # Another process created it first: use theirs so all processes sign alike.
        stored = await db[COLLECTION].find_one({"_id": CURRENT})
        assert stored is not None
        return stored
    return doc


def _to_keyring(doc: dict[str, Any], box: SecretBox) -> KeyRing:
    active = doc["active"]
    try:
        key = SigningKey.unseal(active["kid"], active["sealed_private_key"], box)
    except Exception as exc:
        raise RuntimeError(
            "cannot decrypt the stored signing key: AIGW_SECRET_KEY differs from the one "
            "it was sealed with"
        ) from exc
    return KeyRing(active=key, public_keys=list(doc["public_keys"]))
