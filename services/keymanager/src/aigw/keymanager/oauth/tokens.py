"""OAuth2 access tokens in the JWT profile of RFC 9068, signed like management tokens (the key
ring's active Ed25519 key, `kid` in the header) but for the gateway's audience and typed
`at+jwt`, so neither kind of token passes for the other."""

import time
import uuid
from typing import Any

import jwt

from aigw.common.auth import ALGORITHMS, GATEWAY_AUDIENCE, ISSUER
from aigw.keymanager.oauth.repository import ClientDoc
from aigw.keymanager.signing.keys import KeyRing, SigningKey

TOKEN_TYPE = "at+jwt"


def mint_access_token(key: SigningKey, client: ClientDoc, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": client["_id"],  # no user in this grant: the client itself is the subject
        "aud": GATEWAY_AUDIENCE,
        "exp": now + ttl_seconds,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "client_id": client["_id"],
        "keyType": client["key_type"],
        "applicationId": client["application_id"],
    }
    headers = {"kid": key.kid, "typ": TOKEN_TYPE}
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers=headers)


def read_access_token(keys: KeyRing, token: str) -> dict[str, Any] | None:
    """The claims of a live access token this keymanager signed, or None for anything else
    (malformed, foreign, expired, or another kind of token)."""
    try:
        header = jwt.get_unverified_header(token)
        jwk = _public_key(keys, header)
        if jwk is None:
            return None
        claims: dict[str, Any] = jwt.decode(
            token,
            key=jwk,
            algorithms=ALGORITHMS,
            audience=GATEWAY_AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "jti", "client_id"]},
        )
    except jwt.InvalidTokenError:
        return None
    return claims


def _public_key(keys: KeyRing, header: dict[str, Any]) -> jwt.PyJWK | None:
    if header.get("typ") != TOKEN_TYPE or header.get("alg") not in ALGORITHMS:
        return None
    for jwk in keys.jwks()["keys"]:
        if jwk.get("kid") == header.get("kid"):
            return jwt.PyJWK(jwk)
    return None
