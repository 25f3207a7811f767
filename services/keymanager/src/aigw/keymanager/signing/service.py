"""The token signing keys: the first key, rotation (planned or emergency), the key ring every
token is signed and verified with, and re-encryption under a new master key.

Each read of the key ring goes to the store (one small document by `_id`; logins and token
grants are rare next to API calls), so a rotation made by one process is used by all of them
at once; only the decryption of the private key is cached, per kid. A retired key's private
half is dropped: it only verifies.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.actor import Actor
from aigw.common.crypto import SecretBox
from aigw.common.errors import Conflict
from aigw.common.events import Envelope, SigningKeyRotated, new_event
from aigw.common.ids import utcnow_ms
from aigw.common.mongo import Document
from aigw.common.outbox import Outbox
from aigw.keymanager.signing.keys import Jwk, KeyRing, SigningKey
from aigw.keymanager.signing.repository import (
    COLLECTION,
    CURRENT,
    KeyRingDoc,
    Retiring,
    Rotation,
    SealedKey,
    SigningKeyRepository,
)

log = logging.getLogger(__name__)

SOURCE = "keymanager"
SEALED = "sealed_private_key"
_ROTATE_ATTEMPTS = 3


@dataclass
class SigningKeyCounts:
    keys_seen: int = 0
    keys_reencrypted: int = 0


class SigningKeyService:
    """`retire_after`: how long a replaced key keeps verifying (the longest token lifetime
    plus a leeway), so every token it signed lives out its life. Without an `outbox` staged
    events wait for a running keymanager's outbox sweep."""

    def __init__(
        self,
        repo: SigningKeyRepository,
        box: SecretBox,
        outbox: Outbox | None,
        retire_after: timedelta,
    ) -> None:
        self._repo = repo
        self._box = box
        self._outbox = outbox
        self._retire_after = retire_after
        self._unsealed: dict[str, SigningKey] = {}

    async def start(self) -> KeyRing:
        """Creates the first key if there is none (announcing it) and checks that the stored
        key opens with this AIGW_SECRET_KEY: a wrong secret fails the start, not a login."""
        doc = await self._repo.current()
        if doc is None:
            doc = await self._create()
        elif not doc.get("announced"):
            await self._repo.announce(_first_key_event(self._unseal(doc["active"])))
        await self._flush()
        return self._to_keyring(doc)

    async def current(self) -> KeyRing:
        doc = await self._repo.current()
        if doc is None:  # the store was wiped under a running process
            return await self.start()
        return self._to_keyring(doc)

    async def rotate(self, actor: Actor, *, emergency: bool = False) -> SigningKeyRotated:
        """A new active key; the previous one keeps verifying until `previous_valid_until`, or
        (`emergency`: it may have leaked) not at all: it leaves the JWKS at once and the event
        dates its end now, so gateways drop it too. Keys already retiring keep their date:
        only the active key's private half was kept, so only it can leak from here on.
        Conditioned on the active kid, so two concurrent rotations never lose a key."""
        for _ in range(_ROTATE_ATTEMPTS):
            doc = await self._repo.current()
            if doc is None:
                await self.start()
                continue
            rotated = await self._replace_active(doc, actor, emergency)
            if rotated is not None:
                await self._flush()
                return rotated
        raise Conflict("The signing key changed concurrently; try again")

    async def reencrypt(self) -> SigningKeyCounts:
        """Reseal the signing private keys under the current master key (`make
        rotate-secret-key`). Walks every document of the collection for `{"kid",
        "sealed_private_key"}` entries wherever they sit (the active key today; retired or
        next keys if rotation keeps them), so the store layout may grow without this
        changing. Each entry is resealed with one update conditioned on its old ciphertext:
        a concurrent change wins, a rerun finds nothing left to do."""
        counts = SigningKeyCounts()
        async for doc in self._repo.documents():
            for path, entry in _sealed_entries(doc):
                counts.keys_seen += 1
                if self._box.is_current(entry[SEALED]):
                    continue
                resealed = SigningKey.unseal(entry["kid"], entry[SEALED], self._box).seal(self._box)
                field = f"{path}.{SEALED}" if path else SEALED
                if await self._repo.reseal(doc["_id"], field, entry[SEALED], resealed):
                    counts.keys_reencrypted += 1
        return counts

    async def _flush(self) -> None:
        if self._outbox is not None:
            await self._outbox.try_flush(COLLECTION, CURRENT)

    async def _replace_active(
        self, doc: KeyRingDoc, actor: Actor, emergency: bool
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
        rotation: Rotation = {
            "active": _sealed(key, self._box),
            "retiring": retiring,
            "public_keys": [key.public_jwk(), *_public_keys(doc, {r["kid"] for r in retiring})],
            "rotated_time": now,
        }
        if not await self._repo.rotate(previous_kid, rotation, actor.event(payload, SOURCE)):
            return None
        log.info(
            "rotated the signing key: kid=%s previous=%s%s",
            key.kid,
            previous_kid,
            " (emergency: the previous key no longer verifies)" if emergency else "",
        )
        return payload

    async def _create(self) -> KeyRingDoc:
        key = SigningKey.generate()
        doc: KeyRingDoc = {
            "_id": CURRENT,
            "active": _sealed(key, self._box),
            "public_keys": [key.public_jwk()],
            "retiring": [],
            "announced": True,
            "created_time": utcnow_ms(),
        }
        if await self._repo.insert(doc, _first_key_event(key)):
            log.info("generated a new signing key kid=%s", key.kid)
            return doc
        # Another process created it first: use theirs so all processes sign alike.
        stored = await self._repo.current()
        assert stored is not None
        return stored

    def _to_keyring(self, doc: KeyRingDoc) -> KeyRing:
        active = self._unseal(doc["active"])
        verifying = {active.kid} | {r["kid"] for r in _live_retiring(doc, utcnow_ms())}
        return KeyRing(active=active, public_keys=_public_keys(doc, verifying))

    def _unseal(self, entry: SealedKey) -> SigningKey:
        kid = entry["kid"]
        if kid not in self._unsealed:
            self._unsealed = {kid: _open(kid, entry["sealed_private_key"], self._box)}
        return self._unsealed[kid]


async def load_or_create(db: AsyncDatabase[Document], box: SecretBox) -> KeyRing:
    """The key ring, creating the first key if needed (for tools that run without a broker)."""
    return await SigningKeyService(SigningKeyRepository(db), box, None, timedelta(0)).start()


def _first_key_event(key: SigningKey) -> Envelope:
    payload = SigningKeyRotated(kid=key.kid, jwk=key.public_jwk())
    return new_event(payload, source=SOURCE, actor=SOURCE)


def _sealed(key: SigningKey, box: SecretBox) -> SealedKey:
    return {"kid": key.kid, "sealed_private_key": key.seal(box)}


def _open(kid: str, sealed: str, box: SecretBox) -> SigningKey:
    try:
        return SigningKey.unseal(kid, sealed, box)
    except Exception as exc:
        raise RuntimeError(
            "cannot decrypt the stored signing key: AIGW_SECRET_KEY differs from the one "
            "it was sealed with"
        ) from exc


def _live_retiring(doc: KeyRingDoc, now: datetime) -> list[Retiring]:
    return [r for r in doc.get("retiring", []) if r["valid_until"] > now]


def _public_keys(doc: KeyRingDoc, kids: set[str]) -> list[Jwk]:
    return [dict(jwk) for jwk in doc["public_keys"] if jwk.get("kid") in kids]


def _sealed_entries(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path, entry) for every sealed signing key inside a document."""
    if isinstance(node, dict):
        if isinstance(node.get(SEALED), str) and isinstance(node.get("kid"), str):
            yield path, node
        children: Iterator[tuple[str, Any]] = iter(node.items())
    elif isinstance(node, list):
        children = ((str(i), v) for i, v in enumerate(node))
    else:
        return
    for key, child in children:
        yield from _sealed_entries(child, f"{path}.{key}" if path else key)
