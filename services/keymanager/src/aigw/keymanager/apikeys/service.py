"""Issuing, listing, regenerating and revoking API keys. Each change stages its event in the
same write (transactional outbox) and then tries to publish it at once."""

import secrets
from datetime import datetime, timedelta
from typing import TypedDict

from aigw.common.actor import Actor
from aigw.common.auth import STALE_TOKEN
from aigw.common.crypto import mask_secret, sha256_hex
from aigw.common.errors import Conflict, NotFound, Unauthorized
from aigw.common.events import KeyIssued, KeyRegenerated, KeyRevoked, KeyType
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.outbox import Outbox
from aigw.keymanager.apikeys.repository import COLLECTION, ApiKeyDoc, ApiKeyRepository, KeySecret
from aigw.keymanager.apikeys.schemas import IssuedKey, IssueKeyRequest, KeyList, KeySummary
from aigw.keymanager.apikeys.test_keys import TestKeyLimits
from aigw.keymanager.users.offboarding import Offboarding

SOURCE = "keymanager"
KEY_PREFIX = "aigw_"


def may_see(actor: Actor, key: ApiKeyDoc) -> bool:
    """A key is its owner's; an admin sees and revokes everyone's."""
    return actor.admin or key.get("owner") == actor.subject


class ApiKeyService:
    def __init__(
        self,
        repo: ApiKeyRepository,
        outbox: Outbox,
        test_keys: TestKeyLimits,
        offboarding: Offboarding,
    ) -> None:
        self._repo = repo
        self._outbox = outbox
        self._test_keys = test_keys
        self._offboarding = offboarding

    async def issue(self, request: IssueKeyRequest, actor: Actor) -> IssuedKey:
        """A key for the actor (shown once). A test key (bound to an API) first needs a place
        under the actor's test-key limits, per user: the gateway's test-key quota is per
        user, the cap keeps their keys few. A key whose owner was deleted while this request
        was under way is revoked at once, and the request answered 401."""
        api_key = _new_secret()
        key = _new_key_doc(request, api_key, actor.subject)
        payload = KeyIssued(key_id=key["_id"], key_hash=key["key_hash"], **_meta(key))
        event = actor.event(payload, SOURCE)
        if request.api_id is None:
            await self._repo.insert(key, event)
        else:
            await self._test_keys.admit(
                actor.subject, request.api_id, key["_id"], key["expires_at"]
            )
            try:
                await self._repo.insert(key, event)
            except Exception:
                await self._test_keys.release(key["_id"])
                raise
        await self._outbox.try_flush(COLLECTION, key["_id"])
        if await self._offboarding.revoke_if_owner_gone(actor, key_id=key["_id"]):
            raise Unauthorized(STALE_TOKEN)
        return IssuedKey(id=key["_id"], api_key=api_key, **_meta(key))

    async def list(self, actor: Actor, application_id: str | None) -> KeyList:
        owner = None if actor.admin else actor.subject
        docs = await self._repo.find_many(owner, application_id)
        return KeyList.of([_summary(doc) for doc in docs])

    async def regenerate(self, key_id: str, actor: Actor) -> IssuedKey:
        """Same key id, new secret (shown once); an expiring key gets its original lifetime
        again, counted from now. A revoked key stays revoked: 409."""
        doc = await self._visible(key_id, actor)
        if doc.get("revoked"):
            raise Conflict(f"API key {key_id!r} is revoked; generate a new key instead")
        if doc.get("api_id") is not None:  # a new lifetime would take it past the cap
            raise Conflict(f"API key {key_id!r} is a test key; get a new test key instead")
        api_key = _new_secret()
        secret = _secret(api_key, _lifetime(doc))
        payload = KeyRegenerated(
            key_id=key_id, key_hash=secret["key_hash"], expires_at=secret["expires_at"]
        )
        updated = await self._repo.replace_secret(key_id, secret, actor.event(payload, SOURCE))
        if updated is None:  # revoked in the meantime
            raise Conflict(f"API key {key_id!r} is revoked; generate a new key instead")
        await self._outbox.try_flush(COLLECTION, key_id)
        return IssuedKey(id=key_id, api_key=api_key, **_meta(updated))

    async def revoke(self, key_id: str, actor: Actor) -> None:
        doc = await self._visible(key_id, actor)
        if await self._repo.mark_revoked(key_id, actor.event(KeyRevoked(key_id=key_id), SOURCE)):
            await self._outbox.try_flush(COLLECTION, key_id)
        if doc.get("api_id") is not None:
            await self._test_keys.release(key_id)

    async def _visible(self, key_id: str, actor: Actor) -> ApiKeyDoc:
        doc = await self._repo.find(key_id)
        if doc is None or not may_see(actor, doc):
            raise NotFound(f"API key {key_id!r} does not exist")  # do not reveal others' keys
        return doc


def _new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _secret(api_key: str, expires_in: int | None) -> KeySecret:
    now = utcnow_ms()  # what MongoDB keeps: the event, the document and the response agree
    return {
        "key_hash": sha256_hex(api_key),
        "masked_key": mask_secret(api_key),
        "expires_in": expires_in,
        "expires_at": now + timedelta(seconds=expires_in) if expires_in else None,
    }


def _lifetime(doc: ApiKeyDoc) -> int | None:
    """The key's validity in seconds (keys from before it was stored: derived from dates)."""
    expires_at = doc.get("expires_at")
    if doc.get("expires_in") or expires_at is None:
        return doc.get("expires_in")
    return int((expires_at - doc["created_time"]).total_seconds())


def _new_key_doc(request: IssueKeyRequest, api_key: str, owner: str) -> ApiKeyDoc:
    return {
        "_id": new_id(),
        **_secret(api_key, request.expires_in),
        "application_id": request.application_id,
        "key_type": request.key_type,
        "api_id": request.api_id,
        "created_time": utcnow_ms(),
        "revoked": False,
        "owner": owner,
    }


class _Meta(TypedDict):
    application_id: str
    key_type: KeyType
    api_id: str | None
    expires_at: datetime | None


def _meta(doc: ApiKeyDoc) -> _Meta:
    """What the key's event, its answer and its summary say of it besides its id."""
    return {
        "application_id": doc["application_id"],
        "key_type": doc["key_type"],
        "api_id": doc["api_id"],
        "expires_at": doc["expires_at"],
    }


def _summary(doc: ApiKeyDoc) -> KeySummary:
    return KeySummary(
        id=doc["_id"],
        masked_key=doc["masked_key"],
        created_time=doc["created_time"],
        revoked=bool(doc.get("revoked")),
        **_meta(doc),
    )
