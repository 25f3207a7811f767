"""Service-to-service authentication: HMAC-signed internal requests.

Some calls are only legitimate when another aigw service makes them on a user's behalf, e.g.
keymanager issues API keys only for devportal, which is the one that knows who owns an
application and what is published. A user's token alone cannot prove that, so the calling
service signs the request as well:

    X-Aigw-Service:   the calling service's name, e.g. "devportal"
    X-Aigw-Timestamp: unix seconds when it was signed
    X-Aigw-Signature: base64url(HMAC-SHA256(key, canonical request)), unpadded

The canonical request covers the service name, the timestamp, the method, the path with its
query string (as sent, percent-encoded), the SHA-256 of the body and the SHA-256 of the
Authorization header, so a signature cannot be moved to another request, body, target or
user's token. Signatures older or newer than `MAX_SKEW_SECONDS` are rejected.

The key is derived from `AIGW_SECRET_KEY` with HKDF-SHA256 for this purpose only: the master
key itself never signs anything. Every service holds that secret, so the service name is a
claim among services that trust each other; what it keeps out is anyone without the secret,
i.e. users calling an internal endpoint directly with only their own token.
"""

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable, Collection, Generator, Mapping

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Request

from aigw.common.crypto import decode_master_key
from aigw.common.errors import Forbidden, ServiceError, Unauthorized

SERVICE_HEADER = "X-Aigw-Service"
TIMESTAMP_HEADER = "X-Aigw-Timestamp"
SIGNATURE_HEADER = "X-Aigw-Signature"
MAX_SKEW_SECONDS = 60

_HKDF_INFO = b"aigw service auth v1"
_SCHEME = "aigw-service-auth-v1"
_SERVICE_NAME = re.compile(r"[a-z][a-z0-9-]{0,63}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url without padding


def derive_service_key(master_key: str) -> bytes:
    """The HMAC key for service signatures: HKDF-SHA256 of `AIGW_SECRET_KEY`, never the key
    itself."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return hkdf.derive(decode_master_key(master_key))


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _canonical(
    service: str,
    timestamp: str,
    method: str,
    target: str | bytes,
    body: bytes,
    authorization: str | None,
) -> bytes:
    lines = (
        _SCHEME,
        service,
        timestamp,
        method.upper(),
        _text(target),
        hashlib.sha256(body).hexdigest(),
        hashlib.sha256((authorization or "").encode("latin-1")).hexdigest(),
    )
    return "\n".join(lines).encode("latin-1")


def _mac(key: bytes, message: bytes) -> str:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class ServiceSigner:
    """Signs the requests one service makes to another."""

    def __init__(self, master_key: str, service: str) -> None:
        if not _SERVICE_NAME.fullmatch(service):
            raise ValueError(f"not a service name: {service!r}")
        self._key = derive_service_key(master_key)
        self.service = service

    def headers(
        self,
        method: str,
        target: str | bytes,
        body: bytes = b"",
        authorization: str | None = None,
        *,
        now: float | None = None,
    ) -> dict[str, str]:
        """The headers to add; `target` is the path with its query string, as sent."""
        timestamp = str(int(time.time() if now is None else now))
        message = _canonical(self.service, timestamp, method, target, body, authorization)
        return {
            SERVICE_HEADER: self.service,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: _mac(self._key, message),
        }


class ServiceAuth(httpx.Auth):
    """httpx authentication that signs every request as `service` (caller side). The request's
    own Authorization header, if any, is left as is and bound into the signature."""

    requires_request_body = True

    def __init__(self, master_key: str, service: str) -> None:
        self._signer = ServiceSigner(master_key, service)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        request.headers.update(
            self._signer.headers(
                request.method,
                request.url.raw_path,
                request.content,
                request.headers.get("authorization"),
            )
        )
        yield request


class ServiceVerifier:
    """Checks service signatures (callee side)."""

    def __init__(self, master_key: str, max_skew_seconds: int = MAX_SKEW_SECONDS) -> None:
        self._key = derive_service_key(master_key)
        self._max_skew = max_skew_seconds

    def verify(
        self,
        headers: Mapping[str, str],
        method: str,
        target: str | bytes,
        body: bytes,
        allowed: Collection[str],
        *,
        now: float | None = None,
    ) -> str:
        """`headers` must be case-insensitive (Starlette's or httpx's `Headers`).

        Returns the verified calling service's name; raises Forbidden (403) when the request
        is not signed or comes from a service not allowed here, Unauthorized (401) when the
        signature is malformed, stale or wrong. Reasons never echo header values or keys."""
        service = headers.get(SERVICE_HEADER)
        timestamp = headers.get(TIMESTAMP_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if not (service and timestamp and signature):
            raise Forbidden("The request carries no service signature")
        if service not in allowed:
            raise Forbidden("The calling service is not allowed to make this request")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Unauthorized("The service signature timestamp is malformed")
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > self._max_skew:
            raise Unauthorized("The service signature has expired or is not yet valid")
        if not _SIGNATURE.fullmatch(signature):
            raise Unauthorized("The service signature is malformed")
        # the first value, as the bearer-token check reads it: a second Authorization header
        # cannot swap in another user's token under a captured signature
        authorization = headers.get("Authorization")
        message = _canonical(service, timestamp, method, target, body, authorization)
        if not hmac.compare_digest(_mac(self._key, message).encode(), signature.encode()):
            raise Unauthorized("The service signature does not match the request")
        return service


def request_target(request: Request) -> bytes:
    """The path and query string as the client sent them (what the caller signed)."""
    scope = request.scope
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string") or b""
    return path + b"?" + query if query else path


def _verifier(request: Request) -> ServiceVerifier:
    state = request.app.state
    verifier: ServiceVerifier | None = getattr(state, "service_verifier", None)
    if verifier is None:
        verifier = ServiceVerifier(state.settings.secret_key.get_secret_value())
        state.service_verifier = verifier
    return verifier


def require_service(
    *allowed: str, purpose: str | None = None
) -> Callable[[Request], Awaitable[str]]:
    """A FastAPI dependency admitting only requests signed by one of the `allowed` services;
    it yields the caller's name. `purpose`, if given, leads every rejection's description
    (e.g. "Keys are issued through the developer portal"). The verifier's key comes from
    `app.state.settings.secret_key`."""
    if not allowed:
        raise ValueError("require_service needs at least one service name")
    names = frozenset(allowed)

    async def check(request: Request) -> str:
        body = await request.body()  # cached by Starlette: the endpoint still gets its body
        try:
            return _verifier(request).verify(
                request.headers, request.method, request_target(request), body, names
            )
        except ServiceError as exc:
            if purpose is None:
                raise
            raise type(exc)(f"{purpose}: {exc.description}") from None

    return check
