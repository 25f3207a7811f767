"""Login (throttled per username and source, aigw.keymanager.throttle) and the admin seed."""

import asyncio
import logging
from typing import Any

from aigw.common.errors import Unauthorized
from aigw.common.events import UserCreated, new_event
from aigw.common.outbox import Outbox
from aigw.keymanager.signing.keys import KeyRing
from aigw.keymanager.signing.tokens import mint_token
from aigw.keymanager.throttle import LoginThrottle
from aigw.keymanager.users.passwords import (
    hash_password,
    needs_rehash,
    spend_verification,
    verify_password_async,
)
from aigw.keymanager.users.repository import COLLECTION, UserRepository
from aigw.keymanager.users.schemas import TokenResponse

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
    token = mint_token(keys.active, username, user.get("roles", []), ttl_seconds)
    return TokenResponse(access_token=token, expires_in=ttl_seconds)


async def _authenticate(
    users: UserRepository, username: str, password: str
) -> dict[str, Any] | None:
    """The user if the password is right; an unknown user costs the same time as a known one."""
    user = await users.find(username)
    if user is None:
        await spend_verification(password)
        return None
    stored: str = user["password_hash"]
    if not await verify_password_async(stored, password):
        return None
    if needs_rehash(stored):  # parameters were raised since this hash was made
        await users.replace_hash(username, stored, await asyncio.to_thread(hash_password, password))
    return user
