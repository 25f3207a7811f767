"""A deleted account's credentials are revoked: its API keys and OAuth2 clients.

Deleting is one logical operation done in resumable steps, none of which leaves a half-made
state: the account is tombstoned first, with `credentials_pending` set in the same write (so
its tokens stop at once and no new key can be issued in its name); then each live key and
client is revoked with its own event (`aigw.key.revoked`, `aigw.oauthclient.revoked`: the
gateways drop them), each write conditional and so idempotent; last the flag is cleared. If
keymanager stops midway, `resume` (run at every start) finishes the tombstones still flagged.
A key issued by a request that was already past the token check when the account was deleted
is caught by `revoke_if_owner_gone`, which key and client issuing call after their insert.

Disabling an account does not touch its credentials: disabling is reversible and only ends
management access (tokens, sign-in); applications keep calling AI APIs with their keys until
the account is deleted or the keys are revoked.
"""

import logging

from aigw.common.events import KeyRevoked, OAuthClientRevoked, new_event
from aigw.common.outbox import Outbox
from aigw.keymanager.apikeys.repository import COLLECTION as API_KEYS
from aigw.keymanager.apikeys.repository import ApiKeyRepository
from aigw.keymanager.oauth.repository import CLIENTS, ClientRepository
from aigw.keymanager.users.repository import UserRepository

log = logging.getLogger(__name__)

SOURCE = "keymanager"


class Offboarding:
    def __init__(
        self,
        users: UserRepository,
        keys: ApiKeyRepository,
        clients: ClientRepository,
        outbox: Outbox,
        correlation_id: str | None = None,
    ) -> None:
        self._users = users
        self._keys = keys
        self._clients = clients
        self._outbox = outbox
        self._correlation_id = correlation_id

    async def revoke_credentials(self, username: str, actor: str) -> int:
        """Revokes every live key and client of `username`; how many were revoked."""
        revoked = 0
        for key in await self._keys.find_many(username, None):
            if not key.get("revoked"):
                revoked += await self._revoke_key(key["_id"], actor)
        for client in await self._clients.find_many(username, None):
            if not client.get("revoked"):
                revoked += await self._revoke_client(client["_id"], actor)
        await self._users.credentials_revoked(username)
        return revoked

    async def resume(self) -> None:
        """Finishes the deletions a stopped keymanager left with credentials pending."""
        for username in await self._users.pending_credential_revocations():
            count = await self.revoke_credentials(username, SOURCE)
            log.info("revoked %d credentials of deleted user %r", count, username)

    async def revoke_if_owner_gone(
        self, owner: str, *, key_id: str | None = None, client_id: str | None = None
    ) -> bool:
        """After a key or client was stored: revokes it if its owner was deleted meanwhile
        (the delete's own sweep may have run before the insert). True if it was revoked."""
        if await self._users.find(owner) is not None:
            return False
        if key_id is not None:
            await self._revoke_key(key_id, SOURCE)
        if client_id is not None:
            await self._revoke_client(client_id, SOURCE)
        return True

    async def _revoke_key(self, key_id: str, actor: str) -> int:
        event = new_event(
            KeyRevoked(key_id=key_id),
            source=SOURCE,
            actor=actor,
            correlation_id=self._correlation_id,
        )
        if not await self._keys.mark_revoked(key_id, event):
            return 0
        await self._outbox.try_flush(API_KEYS, key_id)
        return 1

    async def _revoke_client(self, client_id: str, actor: str) -> int:
        event = new_event(
            OAuthClientRevoked(client_id=client_id),
            source=SOURCE,
            actor=actor,
            correlation_id=self._correlation_id,
        )
        if not await self._clients.mark_revoked(client_id, event):
            return 0
        await self._outbox.try_flush(CLIENTS, client_id)
        return 1
