"""An admin's changes to accounts: roles, disabling, deleting, resetting a password.

Each write raises the account's token version and stages `aigw.user.updated` or
`aigw.user.deleted` (never the password or its hash) in the same write; deleting also revokes
the account's API keys and OAuth2 clients (aigw.keymanager.users.offboarding). The platform never
loses its last admin: an admin cannot demote, disable or delete themselves, and a change that
would leave no enabled admin is refused (409), checked under AdminGuard."""

import asyncio
from typing import Any

from aigw.common.errors import Conflict, NotFound
from aigw.common.events import (
    Envelope,
    EventPayload,
    UserChange,
    UserDeleted,
    UserUpdated,
    new_event,
)
from aigw.common.outbox import Outbox
from aigw.keymanager.users.accounts import SOURCE, user_out
from aigw.keymanager.users.admin_guard import AdminGuard
from aigw.keymanager.users.offboarding import Offboarding
from aigw.keymanager.users.passwords import hash_password
from aigw.keymanager.users.repository import ADMIN_ROLE, COLLECTION, UserRepository
from aigw.keymanager.users.schemas import UpdateUserRequest, UserOut

_CHANGED_MEANWHILE = "The account changed while this request was handled; try again"


def is_enabled_admin(doc: dict[str, Any]) -> bool:
    return ADMIN_ROLE in doc.get("roles", []) and not doc.get("disabled", False)


def updated_event(
    doc: dict[str, Any], changes: list[UserChange], actor: str, correlation_id: str | None
) -> Envelope:
    """The `aigw.user.updated` of `doc` once `changes` are applied (one version up)."""
    payload = UserUpdated(
        username=doc["username"],
        roles=doc["roles"],
        disabled=doc.get("disabled", False),
        token_version=doc.get("token_version", 0) + 1,
        changes=changes,
    )
    return new_event(payload, source=SOURCE, actor=actor, correlation_id=correlation_id)


class Administration:
    def __init__(
        self,
        users: UserRepository,
        guard: AdminGuard,
        outbox: Outbox,
        correlation_id: str | None,
        offboarding: Offboarding,
    ) -> None:
        self._users = users
        self._offboarding = offboarding
        self._guard = guard
        self._outbox = outbox
        self._correlation_id = correlation_id

    async def update(self, username: str, request: UpdateUserRequest, actor: str) -> UserOut:
        async with self._guard.held():
            doc = await self._existing(username)
            after = {
                **doc,
                "roles": doc["roles"] if request.roles is None else list(request.roles),
                "disabled": doc.get("disabled", False)
                if request.disabled is None
                else request.disabled,
            }
            changes: list[UserChange] = [
                name for name in ("roles", "disabled") if after[name] != doc.get(name, False)
            ]
            if not changes:
                return user_out(doc)
            if is_enabled_admin(doc) and not is_enabled_admin(after):
                await self._keep_an_admin(username, actor, "remove your own admin role or disable")
            event = updated_event(after, changes, actor, self._correlation_id)
            fields = {"roles": after["roles"], "disabled": after["disabled"]}
            changed = await self._users.change(doc, fields, event)
        return user_out(await self._published(changed))

    async def delete(self, username: str, actor: str) -> None:
        async with self._guard.held():
            doc = await self._existing(username)
            if username == actor or is_enabled_admin(doc):
                await self._keep_an_admin(username, actor, "delete")
            event = self._event(UserDeleted(username=username), actor)
            if not await self._users.tombstone(doc, event):
                raise Conflict(_CHANGED_MEANWHILE)
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        # after the tombstone (its tokens stop, no new key in its name): resumed at start
        await self._offboarding.revoke_credentials(username, actor)

    async def reset_password(self, username: str, password: str, actor: str) -> None:
        doc = await self._existing(username)
        password_hash = await asyncio.to_thread(hash_password, password)
        event = updated_event(doc, ["password"], actor, self._correlation_id)
        await self._published(
            await self._users.change(doc, {"password_hash": password_hash}, event)
        )

    async def _existing(self, username: str) -> dict[str, Any]:
        doc = await self._users.find(username)
        if doc is None:
            raise NotFound(f"User {username!r} does not exist")
        return doc

    async def _keep_an_admin(self, username: str, actor: str, action: str) -> None:
        if username == actor:
            raise Conflict(f"You cannot {action} yourself", message="Cannot change own account")
        if not await self._users.other_enabled_admins(username):
            raise Conflict(
                f"{username!r} is the last enabled admin: make another admin first",
                message="Last admin",
            )

    def _event(self, payload: EventPayload, actor: str) -> Envelope:
        return new_event(payload, source=SOURCE, actor=actor, correlation_id=self._correlation_id)

    async def _published(self, changed: dict[str, Any] | None) -> dict[str, Any]:
        if changed is None:
            raise Conflict(_CHANGED_MEANWHILE)
        await self._outbox.try_flush(COLLECTION, changed["_id"])
        return changed
