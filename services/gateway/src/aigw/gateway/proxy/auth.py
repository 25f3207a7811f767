"""The caller's credential (an API key or an OAuth2 access token), and whether it may call a
route.

The credential is read from `Authorization: Bearer <key>` (what OpenAI-compatible SDKs send), from
`ApiKey: <key>` (WSO2 style) or from the header the API's vendor reads its key from (so the
vendor's own SDK works unchanged: `x-api-key` for Anthropic, `api-key` for Azure OpenAI). When
a request carries several, **Authorization wins**, then ApiKey; an Authorization header that is
not a Bearer credential (e.g. Basic) is ignored.
Keys are looked up by their SHA-256 hash: the gateway never holds a plaintext API key. A
credential shaped like a JWT is verified as an access token (`proxy.tokens`); either way the
same subscription checks follow.
"""

import hashlib
import time
from dataclasses import dataclass

from aigw.gateway.proxy.errors import Refused
from aigw.gateway.proxy.tokens import looks_like_jwt, verify_access_token
from aigw.gateway.routing.table import KeyEntry, Route, RoutingTable


@dataclass(slots=True)
class CallerCredentials:
    authorization: bytes | None = None
    api_key: bytes | None = None
    vendor_header: bytes | None = None

    def key(self) -> str | None:
        if self.authorization is not None:
            scheme, _, credential = self.authorization.partition(b" ")
            credential = credential.strip()
            if scheme.lower() == b"bearer" and credential:
                return credential.decode("latin-1")
        for value in (self.api_key, self.vendor_header):
            if value is not None and (value := value.strip()):
                return value.decode("latin-1")
        return None


class AccessDenied(Refused):
    """The key is missing or may not call the route (401 or 403)."""


def authorise(table: RoutingTable, key: str | None, route: Route) -> KeyEntry:
    """The key's entry if it may call `route`, else AccessDenied with 401 or 403."""
    if key is None:
        raise AccessDenied(
            401,
            "Missing API key: send it as 'Authorization: Bearer <key>' or 'ApiKey: <key>'.",
            "missing_api_key",
        )
    entry = verify_access_token(table, key) if looks_like_jwt(key) else _api_key(table, key)
    if entry.api_id is not None:
        if entry.api_id != route.api_id:
            raise AccessDenied(403, "This key is not valid for this API.", "key_not_allowed")
        return entry  # a test key for this very API needs no subscription
    if (entry.application_id, route.api_id) not in table.subscriptions:
        raise AccessDenied(403, "The application is not subscribed to this API.", "not_subscribed")
    return entry


def _api_key(table: RoutingTable, key: str) -> KeyEntry:
    entry = table.keys.get(hashlib.sha256(key.encode()).hexdigest())
    if entry is None:
        raise AccessDenied(401, "Invalid API key provided.", "invalid_api_key")
    if entry.expires_at is not None and entry.expires_at <= time.time():
        raise AccessDenied(401, "The API key has expired.", "expired_api_key")
    return entry
