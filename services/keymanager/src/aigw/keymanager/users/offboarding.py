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
import uuid

from aigw.common.actor import Actor
from aigw.common.events import KeyRevoked, OAuthClientRevoked
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
    ) -> None:
        self._users = users
        self._keys = keys
        self._clients = clients
        self._outbox = outbox

    async def revoke_credentials(self, username: str, actor: Actor) -> int:
        """Revokes every live key and client of `username` in `actor`'s name (the admin who
        deleted the account); how many were revoked."""
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
        """Finishes the deletions a stopped keymanager left with credentials pending, as
        keymanager, under one correlation id for the whole run."""
        actor = Actor(SOURCE, uuid.uuid4().hex)
        for username in await self._users.pending_credential_revocations():
            count = await self.revoke_credentials(username, actor)
            log.info("revoked %d credentials of deleted user %r", count, username)

    async def revoke_if_owner_gone(
        self, owner: Actor, *, key_id: str | None = None, client_id: str | None = None
    ) -> bool:
        """After a key or client was stored for `owner`: revokes it if the owner's account
        was deleted meanwhile (the delete's own sweep may have run before the insert), as
        keymanager, under the request's correlation id. True if it was revoked."""
        if await self._users.find(owner.subject) is not None:
            return False
        actor = Actor(SOURCE, owner.correlation_id)
        if key_id is not None:
            await self._revoke_key(key_id, actor)
        if client_id is not None:
            await self._revoke_client(client_id, actor)
        return True

    async def _revoke_key(self, key_id: str, actor: Actor) -> int:
        if not await self._keys.mark_revoked(
            key_id, actor.event(KeyRevoked(key_id=key_id), SOURCE)
        ):
            return 0
        await self._outbox.try_flush(API_KEYS, key_id)
        return 1

    async def _revoke_client(self, client_id: str, actor: Actor) -> int:
        event = actor.event(OAuthClientRevoked(client_id=client_id), SOURCE)
        if not await self._clients.mark_revoked(client_id, event):
            return 0
        await self._outbox.try_flush(CLIENTS, client_id)
        return 1
