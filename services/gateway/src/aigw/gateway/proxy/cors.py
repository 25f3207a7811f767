"""CORS for browser clients of the invocation paths (`GATEWAY_CORS_ORIGINS`).

With no origins configured the gateway sends no CORS headers at all. Otherwise a preflight
(`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered by the gateway itself,
without credentials and without calling the provider: 204 with the CORS headers for an allowed
origin, 403 without them for any other. Real responses (the provider's and the gateway's own
errors) carry `Access-Control-Allow-Origin` for an allowed origin only. `*` allows any origin
(echoed back, never with credentials).
"""

from collections.abc import Iterable

from aigw.gateway.asgi import RawHeaders

ALLOW_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = b"Authorization, ApiKey, Content-Type"
# what a browser script may read of a response (OpenAI-style rate-limit headers among them)
EXPOSE_HEADERS = (
    b"x-ratelimit-limit-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-requests, "
    b"x-ratelimit-remaining-tokens, x-ratelimit-reset-requests, x-ratelimit-reset-tokens, "
    b"retry-after, x-request-id, x-provider-request-id"
)
MAX_AGE = b"600"


class CorsPolicy:
    def __init__(self, origins: Iterable[str]) -> None:
        cleaned = {origin.strip().rstrip("/") for origin in origins if origin.strip()}
        self.any_origin = "*" in cleaned
        self.origins = frozenset(origin.encode("latin-1") for origin in cleaned - {"*"})
        self.enabled = bool(cleaned)

    def allows(self, origin: bytes | None) -> bool:
        return origin is not None and (self.any_origin or origin in self.origins)

    def response_headers(self, origin: bytes | None) -> RawHeaders:
        """What a real response to a request from `origin` adds (nothing if not allowed)."""
        if not self.allows(origin):
            return []
        assert origin is not None
        return [
            (b"access-control-allow-origin", origin),
            (b"vary", b"Origin"),
            (b"access-control-expose-headers", EXPOSE_HEADERS),
        ]

    def preflight_headers(self, origin: bytes) -> RawHeaders:
        return [
            (b"access-control-allow-origin", origin),
            (b"vary", b"Origin"),
            (b"access-control-allow-methods", ALLOW_METHODS),
            (b"access-control-allow-headers", ALLOW_HEADERS),
            (b"access-control-max-age", MAX_AGE),
        ]


def request_origin(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes | None, bool]:
    """The `Origin` header, and whether the request is a CORS preflight."""
    origin: bytes | None = None
    asks_method = False
    for name, value in headers:
        if name == b"origin":
            origin = value
        elif name == b"access-control-request-method":
            asks_method = True
    return origin, asks_method
