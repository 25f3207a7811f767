"""OAuth2 access tokens (RFC 9068 JWTs from keymanager's token endpoint), verified locally.

Everything needed is in the routing table, learnt from events: the signing public keys
(`aigw.signingkey.rotated`), the OAuth2 clients (`aigw.oauthclient.created` / `.revoked`) and
the revoked token ids (`aigw.token.revoked`). No call leaves the gateway per request.

A token must have `typ: at+jwt`, `alg: EdDSA` and a `kid` the gateway trusts at this moment, so
`alg: none`, HMAC tokens (even keyed with the public key) and management tokens signed for
another audience are all refused before or by the signature check.

A verified signature is remembered per token by this process (`AccessTokens`, bounded, oldest
dropped first): later requests with the same token re-check only its expiry, its key's
retirement, its client and its jti.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from aigw.common.auth import ALGORITHMS, GATEWAY_AUDIENCE, ISSUER
from aigw.gateway.errors import Refused
from aigw.gateway.routing.table import CLOCK_LEEWAY_SECONDS, KeyEntry, RoutingTable

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]
MAX_VERIFIED_TOKENS = 10_000  # an EdDSA check costs ~100 µs: remembering one costs a dict slot


def looks_like_jwt(credential: str) -> bool:
    """A compact JWS (`eyJ...` header, three parts); API keys start with `aigw_`."""
    return credential.startswith("eyJ") and credential.count(".") == 2


class InvalidToken(Refused):
    def __init__(self, message: str, code: str = "invalid_token") -> None:
        super().__init__(401, message, code)


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """What an access token's verified signature vouched for; only its expiry, its signing
    key's retirement, its client and its jti are checked again on the next request."""

    kid: str
    expires_at: float  # POSIX timestamp
    client_id: str
    jti: str
    application_id: str | None  # the claim, when present


class AccessTokens:
    """Verifies access tokens against the routing table, remembering verified signatures."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.verified: dict[str, VerifiedToken] = {}  # token → its claims, oldest first

    def verify(self, table: RoutingTable, token: str) -> KeyEntry:
        """The caller as a key entry (application and key type from the client record), or
        InvalidToken (401)."""
        verified = self.verified.get(token)
        if verified is None or not self._still_valid(table, verified):
            verified = _verify(table, token, self._clock())
            self._remember(token, verified)
        client = table.oauth_clients.get(verified.client_id)
        if client is None:
            raise InvalidToken("The access token's client is unknown or revoked.")
        if verified.application_id not in (None, client.application_id):
            raise InvalidToken("The access token does not match its client.")
        if verified.jti in table.revoked_jtis:
            raise InvalidToken("The access token has been revoked.", "revoked_token")
        return KeyEntry(
            key_id=client.client_id, application_id=client.application_id, key_type=client.key_type
        )

    def _still_valid(self, table: RoutingTable, verified: VerifiedToken) -> bool:
        now = self._clock()
        key = table.signing_keys.get(verified.kid)
        fresh = now < verified.expires_at + CLOCK_LEEWAY_SECONDS
        return fresh and key is not None and key.usable(now)

    def _remember(self, token: str, verified: VerifiedToken) -> None:
        cache = self.verified
        cache.pop(token, None)
        if len(cache) >= MAX_VERIFIED_TOKENS:
            del cache[next(iter(cache))]
        cache[token] = verified


def _verify(table: RoutingTable, token: str, now: float) -> VerifiedToken:
    kid, key = _signing_key(table, token, now)
    claims = _decode(token, key)
    application_id = claims.get("applicationId")
    return VerifiedToken(
        kid=kid,
        expires_at=float(claims["exp"]),  # type: ignore[arg-type]  # PyJWT checked it is a number
        client_id=str(claims["client_id"]),
        jti=str(claims["jti"]),
        application_id=None if application_id is None else str(application_id),
    )


def _signing_key(table: RoutingTable, token: str, now: float) -> tuple[str, jwt.PyJWK]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("The access token is malformed.") from None
    if header.get("alg") not in ALGORITHMS or header.get("typ") not in ACCESS_TOKEN_TYPES:
        raise InvalidToken("The access token is not an EdDSA-signed at+jwt.")
    kid = str(header.get("kid"))
    signing_key = table.signing_keys.get(kid)
    if signing_key is None or not signing_key.usable(now):
        raise InvalidToken("The access token is signed with an unknown key.")
    return kid, signing_key.key


def _decode(token: str, key: jwt.PyJWK) -> dict[str, object]:
    try:
        claims: dict[str, object] = jwt.decode(
            token,
            key=key,
            algorithms=ALGORITHMS,
            audience=GATEWAY_AUDIENCE,
            issuer=ISSUER,
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("The access token has expired.", "expired_token") from None
    except jwt.PyJWTError:
        raise InvalidToken("The access token is invalid.") from None
    return claims
