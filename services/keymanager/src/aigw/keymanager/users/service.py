"""Login and the admin seed."""

import asyncio
import logging

from aigw.common.errors import Unauthorized
from aigw.keymanager.signing.keys import KeyRing
from aigw.keymanager.signing.tokens import mint_token
from aigw.keymanager.users.passwords import (
    hash_password,
    needs_rehash,
    spend_verification,
    verify_password_async,
)
from aigw.keymanager.users.repository import UserRepository
from aigw.keymanager.users.schemas import TokenResponse

log = logging.getLogger(__name__)

ADMIN = "admin"
ADMIN_ROLES = ["admin", "publisher", "subscriber"]
_INVALID = "Invalid username or password"


async def seed_admin(users: UserRepository, password: str) -> None:
    if await users.find(ADMIN) is not None:
        return  # skip the slow hash on every restart
    password_hash = await asyncio.to_thread(hash_password, password)
    if await users.insert_if_absent(ADMIN, password_hash, ADMIN_ROLES):
        log.info("seeded the %r user", ADMIN)


async def login(
    users: UserRepository, keys: KeyRing, username: str, password: str, ttl_seconds: int
) -> TokenResponse:
    user = await users.find(username)
    if user is None:
        await spend_verification(password)
        raise Unauthorized(_INVALID, message=_INVALID)
    stored: str = user["password_hash"]
    if not await verify_password_async(stored, password):
        raise Unauthorized(_INVALID, message=_INVALID)
    if needs_rehash(stored):  # parameters were raised since this hash was made
        await users.replace_hash(username, stored, await asyncio.to_thread(hash_password, password))
    token = mint_token(keys.active, username, user.get("roles", []), ttl_seconds)
    return TokenResponse(access_token=token, expires_in=ttl_seconds)
