"""Signing keys at rest: one document, `_id` "current", shared by every keymanager process.

    {"active": {"kid", "sealed_private_key"},        # signs new tokens; SecretBox ciphertext
     "public_keys": [jwk, ...],                       # the active key and retiring ones
     "retiring": [{"kid", "valid_until"}, ...],       # previous keys, verifying until then
     "announced": true, "_outbox": [...]}

Every change (the first key included) stages `aigw.signingkey.rotated` in the same write,
so gateways learn the keys from the event stream alone. Each read of the key ring goes to the
store (one small document by `_id`; logins and token grants are rare next to API calls), so a
rotation made by one process is used by all of them at once; only the decryption of the
private key is cached, per kid. A retired key's private half is dropped: it only verifies.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.crypto import SecretBox
from aigw.common.errors import Conflict
from aigw.common.events import Envelope, SigningKeyRotated, new_event
from aigw.common.ids import utcnow_ms
from aigw.common.outbox import Outbox, staged, with_outbox
from aigw.keymanager.signing.keys import KeyRing, SigningKey

log = logging.getLogger(__name__)

COLLECTION = "signing_keys"
CURRENT = "current"
SOURCE = "keymanager"
_NO_OUTBOX = {"_outbox": 0}
_ROTATE_ATTEMPTS = 3


class SigningKeyStore:
    """`retire_after`: how long a replaced key keeps verifying (the longest token lifetime
    plus a leeway), so every token it signed lives out its life. Without an `outbox` staged
    events wait for a running keymanager's outbox sweep."""

    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        box: SecretBox,
        outbox: Outbox | None,
        retire_after: timedelta,
    ) -> None:
        self._coll = db[COLLECTION]
        self._box = box
        self._outbox = outbox
        self._retire_after = retire_after
        self._unsealed: dict[str, SigningKey] = {}

    async def start(self) -> KeyRing:
        """Creates the first key if there is none (announcing it) and checks that the stored
        key opens with this AIGW_SECRET_KEY: a wrong secret fails the start, not a login."""
        doc = await self._coll.find_one({"_id": CURRENT}, _NO_OUTBOX)
        if doc is None:
            doc = await self._create()
        elif not doc.get("announced"):
            await self._announce(doc)
        await self._flush()
        return self._to_keyring(doc)

    async def current(self) -> KeyRing:
        doc = await self._coll.find_one({"_id": CURRENT}, _NO_OUTBOX)
        if doc is None:  # the store was wiped under a running process
            return await self.start()
        return self._to_keyring(doc)

    async def rotate(
        self, actor: str, correlation_id: str | None, *, emergency: bool = False
    ) -> SigningKeyRotated:
        """A new active key; the previous one keeps verifying until `previous_valid_until`, or
        (`emergency`: it may have leaked) not at all: it leaves the JWKS at once and the event
        dates its end now, so gateways drop it too. Keys already retiring keep their date:
        only the active key's private half was kept, so only it can leak from here on.
        Conditioned on the active kid, so two concurrent rotations never lose a key."""
        for _ in range(_ROTATE_ATTEMPTS):
            doc = await self._coll.find_one({"_id": CURRENT}, _NO_OUTBOX)
            if doc is None:
                await self.start()
                continue
            rotated = await self._replace_active(doc, actor, correlation_id, emergency)
            if rotated is not None:
                await self._flush()
                return rotated
        raise Conflict("The signing key changed concurrently; try again")

    async def _flush(self) -> None:
        if self._outbox is not None:
            await self._outbox.try_flush(COLLECTION, CURRENT)

    async def _replace_active(
        self, doc: dict[str, Any], actor: str, correlation_id: str | None, emergency: bool
    ) -> SigningKeyRotated | None:
        key, previous_kid, now = SigningKey.generate(), doc["active"]["kid"], utcnow_ms()
        previous_valid_until = now if emergency else now + self._retire_after
        payload = SigningKeyRotated(
            kid=key.kid,
            jwk=key.public_jwk(),
            previous_kid=previous_kid,
            previous_valid_until=previous_valid_until,
        )
        retiring = _live_retiring(doc, now)
        if not emergency:
            retiring.append({"kid": previous_kid, "valid_until": previous_valid_until})
        update = {
            "$set": {
                "active": _sealed(key, self._box),
                "retiring": retiring,
                "public_keys": [key.public_jwk(), *_public_keys(doc, {r["kid"] for r in retiring})],
                "rotated_time": now,
            },
            **staged(new_event(payload, source=SOURCE, actor=actor, correlation_id=correlation_id)),
        }
        result = await self._coll.update_one({"_id": CURRENT, "active.kid": previous_kid}, update)
        if not result.matched_count:
            return None
        log.info(
            "rotated the signing key: kid=%s previous=%s%s",
            key.kid,
            previous_kid,
            " (emergency: the previous key no longer verifies)" if emergency else "",
        )
        return payload

    async def _create(self) -> dict[str, Any]:
        key = SigningKey.generate()
        doc = {
            "_id": CURRENT,
            "active": _sealed(key, self._box),
            "public_keys": [key.public_jwk()],
            "retiring": [],
            "announced": True,
            "created_time": utcnow_ms(),
        }
        try:
            await self._coll.insert_one(with_outbox(doc, _first_key_event(key)))
            log.info("generated a new signing key kid=%s", key.kid)
        except DuplicateKeyError:
            # Another process created it first: use theirs so all processes sign alike.
            stored = await self._coll.find_one({"_id": CURRENT}, _NO_OUTBOX)
            assert stored is not None
            return stored
        return doc

    async def _announce(self, doc: dict[str, Any]) -> None:
        """A key stored before keys were announced: announce it once, so gateways learn it."""
        key = self._unseal(doc["active"])
        await self._coll.update_one(
            {"_id": CURRENT, "announced": {"$ne": True}},
            {"$set": {"announced": True}, **staged(_first_key_event(key))},
        )

    def _to_keyring(self, doc: dict[str, Any]) -> KeyRing:
        active = self._unseal(doc["active"])
        verifying = {active.kid} | {r["kid"] for r in _live_retiring(doc, utcnow_ms())}
        return KeyRing(active=active, public_keys=_public_keys(doc, verifying))

    def _unseal(self, entry: dict[str, Any]) -> SigningKey:
        kid: str = entry["kid"]
        if kid not in self._unsealed:
            self._unsealed = {kid: _open(kid, entry["sealed_private_key"], self._box)}
        return self._unsealed[kid]


async def load_or_create(db: AsyncDatabase[dict[str, Any]], box: SecretBox) -> KeyRing:
    """The key ring, creating the first key if needed (for tools that run without a broker)."""
    return await SigningKeyStore(db, box, None, timedelta(0)).start()


def _first_key_event(key: SigningKey) -> Envelope:
    payload = SigningKeyRotated(kid=key.kid, jwk=key.public_jwk())
    return new_event(payload, source=SOURCE, actor=SOURCE)


def _sealed(key: SigningKey, box: SecretBox) -> dict[str, str]:
    return {"kid": key.kid, "sealed_private_key": key.seal(box)}


def _open(kid: str, sealed: str, box: SecretBox) -> SigningKey:
    try:
        return SigningKey.unseal(kid, sealed, box)
    except Exception as exc:
        raise RuntimeError(
            "cannot decrypt the stored signing key: AIGW_SECRET_KEY differs from the one "
            "it was sealed with"
        ) from exc


def _live_retiring(doc: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    return [r for r in doc.get("retiring", []) if r["valid_until"] > now]


def _public_keys(doc: dict[str, Any], kids: set[str]) -> list[dict[str, Any]]:
    return [dict(jwk) for jwk in doc["public_keys"] if jwk.get("kid") in kids]
