"""Login and a user's own password change (both throttled per username and source,
aigw.keymanager.throttle), the check that a management token still stands, and the admin
seed."""

import asyncio
import logging
from typing import Any

from aigw.common.auth import STALE_TOKEN, CheckClaims
from aigw.common.errors import Conflict, Forbidden, Unauthorized
from aigw.common.events import UserCreated, new_event
from aigw.common.outbox import Outbox
from aigw.keymanager.signing.keys import KeyRing
from aigw.keymanager.signing.tokens import TOKEN_VERSION_CLAIM, mint_token
from aigw.keymanager.throttle import LoginThrottle
from aigw.keymanager.users.administration import updated_event
from aigw.keymanager.users.passwords import (
    hash_password,
    needs_rehash,
    spend_verification,
    verify_password_async,
)
from aigw.keymanager.users.repository import COLLECTION, UserRepository
from aigw.keymanager.users.schemas import ChangePasswordRequest, TokenResponse

log = logging.getLogger(__name__)

ADMIN = "admin"
ADMIN_ROLES = ["admin", "publisher", "subscriber"]
SOURCE = "keymanager"
_INVALID = "Invalid username or password"


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


async def login(
    users: UserRepository,
    throttle: LoginThrottle,
    keys: KeyRing,
    credentials: tuple[str, str],
    source: str,
    ttl_seconds: int,
) -> TokenResponse:
    """The attempt is counted before the password is checked: past a limit it answers 429
    (LoginLocked) without checking, so concurrent guesses get no more tries than serial ones."""
    username, password = credentials
    attempt = await throttle.admit(username, source)
    try:
        user = await _authenticate(users, username, password)
    except BaseException:
        await attempt.abandoned()
        raise
    if user is None:
        await attempt.failed()
        raise Unauthorized(_INVALID, message=_INVALID)
    await attempt.succeeded()
    return issue_token(keys, user, ttl_seconds)


async def change_own_password(
    users: UserRepository,
    throttle: LoginThrottle,
    outbox: Outbox,
    caller: tuple[str, str],
    request: ChangePasswordRequest,
    correlation_id: str | None,
) -> dict[str, Any]:
    """The account after the change. A wrong current password is a failed login to the
    throttle, so a stolen token cannot be used to guess the password any faster."""
    username, source = caller
    attempt = await throttle.admit(username, source)
    try:
        user = await _authenticate(users, username, request.current_password)
    except BaseException:
        await attempt.abandoned()
        raise
    if user is None:
        await attempt.failed()
        raise Forbidden("The current password is wrong", message="Wrong password")
    await attempt.succeeded()
    password_hash = await asyncio.to_thread(hash_password, request.new_password)
    event = updated_event(user, ["password"], username, correlation_id)
    changed = await users.change(user, {"password_hash": password_hash}, event)
    if changed is None:
        raise Conflict("The account changed while this request was handled; try again")
    await outbox.try_flush(COLLECTION, changed["_id"])
    return changed


def issue_token(keys: KeyRing, user: dict[str, Any], ttl_seconds: int) -> TokenResponse:
    """A token for the account as it is now (its roles and token version)."""
    version = user.get("token_version", 0)
    token = mint_token(keys.active, user["username"], user["roles"], ttl_seconds, version)
    return TokenResponse(access_token=token, expires_in=ttl_seconds)


def standing_tokens(users: UserRepository) -> CheckClaims:
    """Checks that a validly signed management token still stands: its account exists, is
    enabled, and has the token version it was minted for (every change to an account raises
    it). One indexed read per request, on keymanager's own routes only."""

    async def check(claims: dict[str, Any]) -> None:
        user = await users.find(str(claims["sub"]))
        if (
            user is None
            or user.get("disabled", False)
            or claims.get(TOKEN_VERSION_CLAIM, 0) != user.get("token_version", 0)
        ):
            raise Unauthorized(STALE_TOKEN)

    return check


async def _authenticate(
    users: UserRepository, username: str, password: str
) -> dict[str, Any] | None:
    """The user if the password is right and the account enabled; an unknown (or deleted)
    user costs the same time as a known one, and a disabled one is checked in full too, so
    neither answer nor timing tells them apart from a wrong password."""
    user = await users.find(username)
    if user is None:
        await spend_verification(password)
        return None
    stored: str = user["password_hash"]
    if not await verify_password_async(stored, password) or user.get("disabled", False):
        return None
    if needs_rehash(stored):  # parameters were raised since this hash was made
        await users.replace_hash(username, stored, await asyncio.to_thread(hash_password, password))
    return user
