"""OAuth2 access tokens minted the way RFC 9068 describes (and keymanager issues them), plus the
forgeries an attacker would try: `alg: none`, HMAC keyed with the public key, tampered claims."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aigw.common.auth import GATEWAY_AUDIENCE, ISSUER
from aigw.common.events import SigningKeyRotated


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


class AccessTokenSigner:
    __test__ = False

    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex[:16]
        self.key = Ed25519PrivateKey.generate()

    def jwk(self) -> dict[str, str]:
        jwk: dict[str, str] = jwt.algorithms.OKPAlgorithm.to_jwk(  # type: ignore[attr-defined]
            self.key.public_key(), as_dict=True
        )
        return {**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    def rotated(
        self, previous: "AccessTokenSigner | None" = None, grace: float = 3600
    ) -> SigningKeyRotated:
        return SigningKeyRotated(
            kid=self.kid,
            jwk=self.jwk(),
            previous_kid=previous.kid if previous else None,
            previous_valid_until=datetime.now(UTC) + timedelta(seconds=grace) if previous else None,
        )

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_raw(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def claims(self, client_id: str, application_id: str, key_type: str, **extra: Any) -> dict:
        now = int(time.time())
        return {
            "iss": ISSUER,
            "sub": client_id,
            "aud": GATEWAY_AUDIENCE,
            "exp": now + 600,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "client_id": client_id,
            "keyType": key_type,
            "applicationId": application_id,
            **extra,
        }

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        headers = {"kid": self.kid, "typ": "at+jwt", **header}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers=headers)

    def unsigned(self, claims: dict[str, Any]) -> str:
        """`alg: none`, empty signature."""
        header = {"alg": "none", "typ": "at+jwt", "kid": self.kid}
        return f"{b64url_json(header)}.{b64url_json(claims)}."

    def hmac_signed(self, claims: dict[str, Any], secret: bytes) -> str:
        """HS256 keyed with a public value (the classic algorithm-confusion forgery)."""
        header = {"alg": "HS256", "typ": "at+jwt", "kid": self.kid}
        signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"


def tampered(token: str, **changes: Any) -> str:
    """The same header and signature over a payload with `changes` applied."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{b64url_json({**claims, **changes})}.{signature}"
