"""Creating, listing and revoking OAuth2 clients (WSO2's "consumer key and secret"). Each
change stages its event in the same write (transactional outbox), then tries to publish it."""

import secrets
from typing import Any

from aigw.common.auth import Principal
from aigw.common.crypto import sha256_hex
from aigw.common.errors import Conflict, NotFound
from aigw.common.events import (
    Envelope,
    EventPayload,
    OAuthClientCreated,
    OAuthClientRevoked,
    new_event,
)
from aigw.common.ids import utcnow_ms
from aigw.common.outbox import Outbox
from aigw.keymanager.oauth.repository import CLIENTS, ClientRepository, active_slot
from aigw.keymanager.oauth.schemas import (
    ClientList,
    ClientSummary,
    CreateClientRequest,
    CreatedClient,
)

SOURCE = "keymanager"


class ClientService:
    def __init__(self, repo: ClientRepository, outbox: Outbox, correlation_id: str | None) -> None:
        self._repo = repo
        self._outbox = outbox
        self._correlation_id = correlation_id

    async def create(self, request: CreateClientRequest, principal: Principal) -> CreatedClient:
        """A second live client for the same application and key type is a 409: the secret
        cannot be shown again, so the caller revokes the old client and creates a new one."""
        secret = secrets.token_urlsafe(32)
        doc = _new_client_doc(request, secret, principal.subject)
        payload = OAuthClientCreated(
            client_id=doc["_id"], application_id=request.application_id, key_type=request.key_type
        )
        if not await self._repo.insert(doc, self._event(payload, principal)):
            raise Conflict(
                f"Application {request.application_id!r} already has {request.key_type} "
                "client credentials; revoke them first"
            )
        await self._outbox.try_flush(CLIENTS, doc["_id"])
        return CreatedClient(client_id=doc["_id"], client_secret=secret, **_meta(doc))

    async def list(self, principal: Principal, application_id: str | None) -> ClientList:
        owner = None if principal.has_any("admin") else principal.subject
        docs = await self._repo.find_many(owner, application_id)
        return ClientList.of([_summary(doc) for doc in docs])

    async def revoke(self, client_id: str, principal: Principal) -> None:
        """Idempotent: revoking a revoked client is a no-op without a second event."""
        doc = await self._repo.find(client_id)
        if doc is None or not (principal.has_any("admin") or doc["owner"] == principal.subject):
            raise NotFound(f"OAuth client {client_id!r} does not exist")  # others' stay hidden
        event = self._event(OAuthClientRevoked(client_id=client_id), principal)
        if await self._repo.mark_revoked(client_id, event):
            await self._outbox.try_flush(CLIENTS, client_id)

    def _event(self, payload: EventPayload, principal: Principal) -> Envelope:
        return new_event(
            payload, source=SOURCE, actor=principal.subject, correlation_id=self._correlation_id
        )


def _new_client_doc(request: CreateClientRequest, secret: str, owner: str) -> dict[str, Any]:
    return {
        # the client id is public (it is in every token), but unguessable all the same
        "_id": secrets.token_urlsafe(18),
        "secret_hash": sha256_hex(secret),
        "application_id": request.application_id,
        "key_type": request.key_type,
        "slot": active_slot(request.application_id, request.key_type),
        "created_time": utcnow_ms(),
        "revoked": False,
        "owner": owner,
    }


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    fields = ("application_id", "key_type", "created_time")
    return {name: doc[name] for name in fields}


def _summary(doc: dict[str, Any]) -> ClientSummary:
    return ClientSummary(client_id=doc["_id"], revoked=bool(doc.get("revoked")), **_meta(doc))
