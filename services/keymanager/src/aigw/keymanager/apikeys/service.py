"""Issuing, listing, regenerating and revoking API keys. Each change stages its event in the same write
(transactional outbox) and then tries to publish it at once."""

import secrets
from datetime import timedelta
from typing import Any

from aigw.common.auth import Principal
from aigw.common.crypto import mask_secret, sha256_hex
from aigw.common.errors import Conflict, NotFound
from aigw.common.events import (
    Envelope,
    EventPayload,
    KeyIssued,
    KeyRegenerated,
    KeyRevoked,
    new_event,
)
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.outbox import Outbox
from aigw.keymanager.apikeys.repository import COLLECTION, ApiKeyRepository
from aigw.keymanager.apikeys.schemas import IssuedKey, IssueKeyRequest, KeyList, KeySummary
from aigw.keymanager.apikeys.test_keys import TestKeyLimits

SOURCE = "keymanager"
KEY_PREFIX = "aigw_"


def _can_see(principal: Principal, doc: dict[str, Any]) -> bool:
    return principal.has_any("admin") or doc.get("owner") == principal.subject


class ApiKeyService:
    def __init__(
        self,
        repo: ApiKeyRepository,
        outbox: Outbox,
        correlation_id: str | None,
        test_keys: TestKeyLimits,
    ) -> None:
        self._repo = repo
        self._outbox = outbox
        self._correlation_id = correlation_id
        self._test_keys = test_keys

    async def issue(self, request: IssueKeyRequest, principal: Principal) -> IssuedKey:
        """A test key (bound to an API) first needs a place under the caller's test-key
        limits, per user: the gateway's test-key quota is per user, the cap keeps their keys
        few."""
        api_key = _new_secret()
        key = _new_key_doc(request, api_key, principal.subject)
        payload = KeyIssued(key_id=key["_id"], key_hash=key["key_hash"], **_meta(key))
        event = self._event(payload, principal)
        if request.api_id is None:
            await self._repo.insert(key, event)
        else:
            await self._test_keys.admit(
                principal.subject, request.api_id, key["_id"], key["expires_at"]
            )
            try:
                await self._repo.insert(key, event)
            except Exception:
                await self._test_keys.release(key["_id"])
                raise
        await self._outbox.try_flush(COLLECTION, key["_id"])
        return IssuedKey(id=key["_id"], api_key=api_key, **_meta(key))

    async def list(self, principal: Principal, application_id: str | None) -> KeyList:
        owner = None if principal.has_any("admin") else principal.subject
        docs = await self._repo.find_many(owner, application_id)
        return KeyList.of([_summary(doc) for doc in docs])

    async def regenerate(self, key_id: str, principal: Principal) -> IssuedKey:
        """Same key id, new secret (shown once); an expiring key gets its original lifetime
        again, counted from now. A revoked key stays revoked: 409."""
        doc = await self._visible(key_id, principal)
        if doc.get("revoked"):
            raise Conflict(f"API key {key_id!r} is revoked; generate a new key instead")
        if doc.get("api_id") is not None:  # a new lifetime would take it past the cap
            raise Conflict(f"API key {key_id!r} is a test key; get a new test key instead")
        api_key = _new_secret()
        fields = _secret_fields(api_key, _lifetime(doc))
        payload = KeyRegenerated(
            key_id=key_id, key_hash=fields["key_hash"], expires_at=fields["expires_at"]
        )
        updated = await self._repo.replace_secret(key_id, fields, self._event(payload, principal))
        if updated is None:  # revoked in the meantime
            raise Conflict(f"API key {key_id!r} is revoked; generate a new key instead")
        await self._outbox.try_flush(COLLECTION, key_id)
        return IssuedKey(id=key_id, api_key=api_key, **_meta(updated))

    async def revoke(self, key_id: str, principal: Principal) -> None:
        doc = await self._visible(key_id, principal)
        event = self._event(KeyRevoked(key_id=key_id), principal)
        if await self._repo.mark_revoked(key_id, event):
            await self._outbox.try_flush(COLLECTION, key_id)
        if doc.get("api_id") is not None:
            await self._test_keys.release(key_id)

    async def _visible(self, key_id: str, principal: Principal) -> dict[str, Any]:
        doc = await self._repo.find(key_id)
        if doc is None or not _can_see(principal, doc):
            raise NotFound(f"API key {key_id!r} does not exist")  # do not reveal others' keys
        return doc

    def _event(self, payload: EventPayload, principal: Principal) -> Envelope:
        return new_event(
            payload, source=SOURCE, actor=principal.subject, correlation_id=self._correlation_id
        )


def _new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _secret_fields(api_key: str, expires_in: int | None) -> dict[str, Any]:
    """What is stored of a key's secret: its hash, a masked form, and when it expires."""
    now = utcnow_ms()  # what MongoDB keeps: the event, the document and the response agree
    return {
        "key_hash": sha256_hex(api_key),
        "masked_key": mask_secret(api_key),
        "expires_in": expires_in,
        "expires_at": now + timedelta(seconds=expires_in) if expires_in else None,
    }


def _lifetime(doc: dict[str, Any]) -> int | None:
    """The key's validity in seconds (keys from before it was stored: derived from dates)."""
    if doc.get("expires_in") or doc.get("expires_at") is None:
        return doc.get("expires_in")
    return int((doc["expires_at"] - doc["created_time"]).total_seconds())


def _new_key_doc(request: IssueKeyRequest, api_key: str, owner: str) -> dict[str, Any]:
    return {
        "_id": new_id(),
        **_secret_fields(api_key, request.expires_in),
        "application_id": request.application_id,
        "key_type": request.key_type,
        "api_id": request.api_id,
        "created_time": utcnow_ms(),
        "revoked": False,
        "owner": owner,
    }


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    fields = ("application_id", "key_type", "api_id", "expires_at")
    return {name: doc[name] for name in fields}


def _summary(doc: dict[str, Any]) -> KeySummary:
    return KeySummary(
        id=doc["_id"],
        masked_key=doc["masked_key"],
        created_time=doc["created_time"],
        revoked=bool(doc.get("revoked")),
        **_meta(doc),
    )
