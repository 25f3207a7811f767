"""Management-token verification shared by every service.

keymanager signs short-lived JWTs with Ed25519 (`alg: EdDSA`, `kid` in the header) and serves
the public keys at `/api/keymanager/v1/jwks`. Services verify tokens locally against a cached
copy of that key set, refreshed every `AIGW_JWKS_REFRESH_SECONDS` and when they meet an
unknown `kid` (rate-limited), so a key that left the set stops verifying. Only
EdDSA is accepted, so `alg: none` and HMAC-with-the-public-key tokens fail.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aigw.common.errors import Forbidden, Unauthorized, Unavailable

log = logging.getLogger(__name__)

ISSUER = "aigw-keymanager"
MANAGEMENT_AUDIENCE = "aigw-management"
GATEWAY_AUDIENCE = "aigw-gateway"  # OAuth2 access tokens (RFC 9068 profile) for AI API calls
ALGORITHMS = ["EdDSA"]
# the account's token version a management token was minted for: every change to the account
# raises it, so a token of an older version no longer stands (keymanager, aigw.common.standing)
TOKEN_VERSION_CLAIM = "ver"
STALE_TOKEN = "The access token no longer stands: sign in again"

FetchJwks = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class KeySource(Protocol):
    """Where a verifier finds the public key of a `kid`: None if it is not trusted (now)."""

    async def key(self, kid: str) -> jwt.PyJWK | None: ...


class JwksCache:
    """keymanager's public keys, fetched on first use, again every `refresh_seconds` (so a key
    that left the JWKS, retired or withdrawn in an emergency, stops verifying within that
    time) and when an unknown `kid` shows up (at most every `min_refresh_seconds`, so bogus
    kids cannot hammer keymanager). The timer is checked when a token is verified: nothing
    runs in the background. If keymanager cannot be reached, the keys last fetched stay in
    use (its outage must not lock everyone out) and the fetch is retried, rate-limited."""

    def __init__(
        self,
        fetch: FetchJwks,
        min_refresh_seconds: float = 2.0,
        refresh_seconds: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self._keys: dict[str, jwt.PyJWK] = {}
        self._refresh_every = refresh_seconds
        self._min_refresh = min(min_refresh_seconds, refresh_seconds)
        self._last_attempt = float("-inf")
        self._fetched_at = float("-inf")
        self._unreachable = False
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if time.monotonic() - self._fetched_at >= self._refresh_every or kid not in self._keys:
            await self._refresh()
        if kid not in self._keys and self._unreachable:
            # an outage of keymanager is not the caller's fault: 503, not 401
            raise Unavailable("Access tokens cannot be verified right now")
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if now - self._last_attempt < self._min_refresh:
                return  # fetched (or tried) a moment ago, maybe while this call waited
            self._last_attempt = now
            try:
                jwks = await self._fetch()
            except Exception as exc:  # noqa: BLE001 - any failure: the keys are unknown for now
                log.warning("cannot fetch the signing keys: %r", exc)
                self._unreachable = True
                return
            self._unreachable = False
            self._fetched_at = now
            self._keys = {k["kid"]: jwt.PyJWK(k) for k in jwks.get("keys", []) if "kid" in k}


CheckClaims = Callable[[dict[str, Any]], Awaitable[None]]


class TokenVerifier:
    """`check_claims`, if given, is asked about every validly signed token and raises
    Unauthorized for one that no longer stands (keymanager: a disabled, deleted or changed
    account)."""

    def __init__(
        self,
        jwks: KeySource,
        audience: str = MANAGEMENT_AUDIENCE,
        check_claims: CheckClaims | None = None,
    ) -> None:
        self._jwks = jwks
        self._audience = audience
        self._check_claims = check_claims

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("The access token is malformed") from exc
        if header.get("alg") not in ALGORITHMS or not header.get("kid"):
            raise Unauthorized("The access token is not signed with an accepted key")
        key = await self._jwks.key(str(header["kid"]))
        if key is None:
            raise Unauthorized("The access token is signed with an unknown key")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"The access token is invalid: {exc}") from exc
        if self._check_claims is not None:
            await self._check_claims(claims)
        return Principal(subject=str(claims["sub"]), roles=frozenset(claims.get("roles", [])))


_bearer = HTTPBearer(auto_error=False, description="Access token from keymanager's /auth/login")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Missing access token: send 'Authorization: Bearer <token>'")
    verifier: TokenVerifier = request.app.state.verifier
    return await verifier.verify(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(f"This operation needs one of the roles: {', '.join(roles)}")
        return principal

    return check
