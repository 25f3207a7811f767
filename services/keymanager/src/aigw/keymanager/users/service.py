"""User use cases: accounts created (by an admin with any roles; by sign-up through devportal
as subscribers), listed and read; login and a user's own password change (both throttled per
username and source, aigw.keymanager.throttle); an admin's changes to accounts (roles,
disabling, deleting, resetting a password); the check that a management token still stands;
and the admin seed.

Each write stages its `aigw.user.*` event (username, roles, state: never the password or its
hash) in the same write, then the event is published at once; every change to an account
raises its token version, so tokens minted before it no longer stand. Deleting also revokes
the account's API keys and OAuth2 clients (aigw.keymanager.users.offboarding). The platform
never loses its last admin: an admin cannot demote, disable or delete themselves, and a change
that would leave no enabled admin is refused (409), checked under AdminGuard."""

import asyncio
import logging
from typing import Any

from aigw.common.actor import Actor
from aigw.common.auth import STALE_TOKEN
from aigw.common.errors import Conflict, Forbidden, NotFound, Unauthorized
from aigw.common.events import (
    Envelope,
    UserChange,
    UserCreated,
    UserDeleted,
    UserUpdated,
    new_event,
)
from aigw.common.outbox import Outbox
from aigw.keymanager.signing.service import SigningKeyService
from aigw.keymanager.signing.tokens import TOKEN_VERSION_CLAIM, mint_token
from aigw.keymanager.throttle import LoginThrottle
from aigw.keymanager.users.admin_guard import AdminGuard
from aigw.keymanager.users.offboarding import Offboarding
from aigw.keymanager.users.passwords import (
    hash_password,
    needs_rehash,
    spend_verification,
    verify_password_async,
)
from aigw.keymanager.users.repository import (
    ADMIN_ROLE,
    COLLECTION,
    AccountFields,
    PublicUser,
    UserDoc,
    UserRepository,
)
from aigw.keymanager.users.schemas import (
    ChangePasswordRequest,
    CreateUserRequest,
    Role,
    SignupRequest,
    TokenResponse,
    UpdateUserRequest,
    UserList,
    UserOut,
)

log = logging.getLogger(__name__)

ADMIN = "admin"
ADMIN_ROLES = ["admin", "publisher", "subscriber"]
SIGNUP_ROLES: list[Role] = ["subscriber"]
SOURCE = "keymanager"
_INVALID = "Invalid username or password"
_CHANGED_MEANWHILE = "The account changed while this request was handled; try again"


def is_enabled_admin(user: PublicUser) -> bool:
    return ADMIN_ROLE in user.get("roles", []) and not user.get("disabled", False)


def updated_event(user: UserDoc, changes: list[UserChange], actor: Actor) -> Envelope:
    """The `aigw.user.updated` of `user` once `changes` are applied (one version up)."""
    payload = UserUpdated(
        username=user["username"],
        roles=user["roles"],
        disabled=user.get("disabled", False),
        token_version=user.get("token_version", 0) + 1,
        changes=changes,
    )
    return actor.event(payload, SOURCE)


class UserService:
    def __init__(
        self,
        users: UserRepository,
        outbox: Outbox,
        *,
        guard: AdminGuard,
        throttle: LoginThrottle,
        signing: SigningKeyService,
        offboarding: Offboarding,
        token_ttl_seconds: int,
    ) -> None:
        self._users = users
        self._outbox = outbox
        self._guard = guard
        self._throttle = throttle
        self._signing = signing
        self._offboarding = offboarding
        self._token_ttl = token_ttl_seconds

    # --- accounts --------------------------------------------------------------------------

    async def create(self, request: CreateUserRequest, actor: Actor) -> UserOut:
        roles: list[str] = list(request.roles)
        event = actor.event(UserCreated(username=request.username, roles=roles), SOURCE)
        password_hash = await asyncio.to_thread(hash_password, request.password)
        created = await self._users.insert_if_absent(request.username, password_hash, roles, event)
        if created is None:
            raise Conflict(f"User {request.username!r} already exists")
        await self._outbox.try_flush(COLLECTION, created["_id"])
        return user_out(created)

    async def sign_up(self, request: SignupRequest, actor: Actor) -> UserOut:
        """A subscriber account; `actor` is the new user (devportal only forwards the form)."""
        body = CreateUserRequest(
            username=request.username, password=request.password, roles=SIGNUP_ROLES
        )
        return await self.create(body, actor)

    async def list(self) -> UserList:
        return UserList.of([user_out(doc) for doc in await self._users.list_all()])

    async def get(self, username: str) -> UserOut:
        return user_out(await self._existing(username))

    # --- login and the user's own password -------------------------------------------------

    async def login(self, username: str, password: str, source: str) -> TokenResponse:
        """The attempt is counted before the password is checked: past a limit it answers 429
        (LoginLocked) without checking, so concurrent guesses get no more tries than serial
        ones."""
        user = await self._checked(username, password, source)
        if user is None:
            raise Unauthorized(_INVALID, message=_INVALID)
        return await self._token(user)

    async def change_own_password(
        self, request: ChangePasswordRequest, actor: Actor, source: str
    ) -> TokenResponse:
        """A new token for the account after the change. A wrong current password is a failed
        login to the throttle, so a stolen token cannot be used to guess the password any
        faster."""
        user = await self._checked(actor.subject, request.current_password, source)
        if user is None:
            raise Forbidden("The current password is wrong", message="Wrong password")
        password_hash = await asyncio.to_thread(hash_password, request.new_password)
        event = updated_event(user, ["password"], actor)
        changed = await self._published(
            await self._users.change(user, {"password_hash": password_hash}, event)
        )
        return await self._token(changed)

    async def check_standing(self, claims: dict[str, Any]) -> None:
        """That a validly signed management token still stands: its account exists, is
        enabled, and has the token version it was minted for (every change to an account
        raises it). One indexed read per request, on keymanager's own routes only."""
        user = await self._users.find(str(claims["sub"]))
        if (
            user is None
            or user.get("disabled", False)
            or claims.get(TOKEN_VERSION_CLAIM, 0) != user.get("token_version", 0)
        ):
            raise Unauthorized(STALE_TOKEN)

    # --- an admin's changes ----------------------------------------------------------------

    async def update(self, username: str, request: UpdateUserRequest, actor: Actor) -> UserOut:
        async with self._guard.held():
            doc = await self._existing(username)
            after: UserDoc = {
                **doc,
                "roles": doc["roles"] if request.roles is None else list(request.roles),
                "disabled": doc.get("disabled", False)
                if request.disabled is None
                else request.disabled,
            }
            changes: list[UserChange] = []
            if after["roles"] != doc["roles"]:
                changes.append("roles")
            if after["disabled"] != doc.get("disabled", False):
                changes.append("disabled")
            if not changes:
                return user_out(doc)
            if is_enabled_admin(doc) and not is_enabled_admin(after):
                await self._keep_an_admin(username, actor, "remove your own admin role or disable")
            event = updated_event(after, changes, actor)
            fields: AccountFields = {"roles": after["roles"], "disabled": after["disabled"]}
            changed = await self._users.change(doc, fields, event)
        return user_out(await self._published(changed))

    async def delete(self, username: str, actor: Actor) -> None:
        async with self._guard.held():
            doc = await self._existing(username)
            if username == actor.subject or is_enabled_admin(doc):
                await self._keep_an_admin(username, actor, "delete")
            event = actor.event(UserDeleted(username=username), SOURCE)
            if not await self._users.tombstone(doc, event):
                raise Conflict(_CHANGED_MEANWHILE)
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        # after the tombstone (its tokens stop, no new key in its name): resumed at start
        await self._offboarding.revoke_credentials(username, actor)

    async def reset_password(self, username: str, password: str, actor: Actor) -> None:
        doc = await self._existing(username)
        password_hash = await asyncio.to_thread(hash_password, password)
        event = updated_event(doc, ["password"], actor)
        await self._published(
            await self._users.change(doc, {"password_hash": password_hash}, event)
        )

    # --- plumbing --------------------------------------------------------------------------

    async def _existing(self, username: str) -> UserDoc:
        doc = await self._users.find(username)
        if doc is None:
            raise NotFound(f"User {username!r} does not exist")
        return doc

    async def _keep_an_admin(self, username: str, actor: Actor, action: str) -> None:
        if username == actor.subject:
            raise Conflict(f"You cannot {action} yourself", message="Cannot change own account")
        if not await self._users.other_enabled_admins(username):
            raise Conflict(
                f"{username!r} is the last enabled admin: make another admin first",
                message="Last admin",
            )

    async def _published(self, changed: UserDoc | None) -> UserDoc:
        if changed is None:
            raise Conflict(_CHANGED_MEANWHILE)
        await self._outbox.try_flush(COLLECTION, changed["_id"])
        return changed

    async def _checked(self, username: str, password: str, source: str) -> UserDoc | None:
        """The account if the password is right, settling the throttle's attempt: counted
        before the check, a failure if it is wrong, given back if the check itself failed."""
        attempt = await self._throttle.admit(username, source)
        try:
            user = await self._authenticate(username, password)
        except BaseException:
            await attempt.abandoned()
            raise
        if user is None:
            await attempt.failed()
            return None
        await attempt.succeeded()
        return user

    async def _authenticate(self, username: str, password: str) -> UserDoc | None:
        """The user if the password is right and the account enabled; an unknown (or deleted)
        user costs the same time as a known one, and a disabled one is checked in full too,
        so neither answer nor timing tells them apart from a wrong password."""
        user = await self._users.find(username)
        if user is None:
            await spend_verification(password)
            return None
        stored = user["password_hash"]
        if not await verify_password_async(stored, password) or user.get("disabled", False):
            return None
        if needs_rehash(stored):  # parameters were raised since this hash was made
            new_hash = await asyncio.to_thread(hash_password, password)
            await self._users.replace_hash(username, stored, new_hash)
        return user

    async def _token(self, user: UserDoc) -> TokenResponse:
        """A token for the account as it is now (its roles and token version)."""
        keys = await self._signing.current()
        version = user.get("token_version", 0)
        token = mint_token(keys.active, user["username"], user["roles"], self._token_ttl, version)
        return TokenResponse(access_token=token, expires_in=self._token_ttl)


def user_out(user: PublicUser) -> UserOut:
    return UserOut.model_validate(
        {
            "username": user["username"],
            "roles": user["roles"],
            "disabled": user.get("disabled", False),
            "created_time": user["created_time"],
        }
    )


async def seed_admin(users: UserRepository, password: str, outbox: Outbox | None = None) -> None:
    """Without an outbox, the seed's event waits for the outbox sweep."""
    if await users.find(ADMIN) is not None:
        return  # skip the slow hash on every restart
    password_hash = await asyncio.to_thread(hash_password, password)
    event = new_event(UserCreated(username=ADMIN, roles=ADMIN_ROLES), source=SOURCE, actor=SOURCE)
    created = await users.insert_if_absent(ADMIN, password_hash, ADMIN_ROLES, event)
    if created is not None:
        log.info("seeded the %r user", ADMIN)
        if outbox is not None:
            await outbox.try_flush(COLLECTION, created["_id"])
