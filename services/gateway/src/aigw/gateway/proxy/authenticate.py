"""Who is calling: the credential as an API key or an OAuth2 access token, as a key entry.

Keys are looked up by their SHA-256 hash: the gateway never holds a plaintext API key. A
credential shaped like a JWT is verified as an access token (`proxy.tokens`, whose cache of
verified signatures this stage owns); either way the same authorisation follows.
"""

import hashlib
import time
from collections.abc import Callable

from aigw.gateway.errors import Refused
from aigw.gateway.proxy.tokens import AccessTokens, looks_like_jwt
from aigw.gateway.routing.table import KeyEntry, RoutingTable


class AccessDenied(Refused):
    """The key is missing, unknown or may not call the route (401 or 403)."""


class Authenticator:
    def __init__(self, table: RoutingTable, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock
        self.tokens = AccessTokens(clock)

    def authenticate(self, credential: str | None) -> KeyEntry:
        """The credential's key entry, else AccessDenied (401)."""
        if credential is None:
            raise AccessDenied(
                401,
                "Missing API key: send it as 'Authorization: Bearer <key>' or 'ApiKey: <key>'.",
                "missing_api_key",
            )
        if looks_like_jwt(credential):
            return self.tokens.verify(self._table, credential)
        entry = self._table.keys.get(hashlib.sha256(credential.encode()).hexdigest())
        if entry is None:
            raise AccessDenied(401, "Invalid API key provided.", "invalid_api_key")
        if entry.expires_at is not None and entry.expires_at <= self._clock():
            raise AccessDenied(401, "The API key has expired.", "expired_api_key")
        return entry
