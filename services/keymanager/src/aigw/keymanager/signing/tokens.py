"""Management access tokens: short-lived EdDSA JWTs that `aigw.common.auth.TokenVerifier` accepts."""

import time
import uuid
from collections.abc import Iterable

import jwt

from aigw.common.auth import ISSUER, MANAGEMENT_AUDIENCE, TOKEN_VERSION_CLAIM
from aigw.keymanager.signing.keys import SigningKey

__all__ = ["TOKEN_VERSION_CLAIM", "mint_token"]


def mint_token(
    key: SigningKey, subject: str, roles: Iterable[str], ttl_seconds: int, version: int = 0
) -> str:
    """`version` is the account's token version: a change to the account raises it, and
    keymanager no longer accepts tokens minted for an older one."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": MANAGEMENT_AUDIENCE,
        "sub": subject,
        "roles": list(roles),
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
        TOKEN_VERSION_CLAIM: version,
    }
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
