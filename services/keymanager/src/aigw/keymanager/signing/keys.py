"""Ed25519 signing keys: generation, the public JWK, and sealing the private half at rest."""

import uuid
from dataclasses import dataclass, field
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.utils import base64url_decode, base64url_encode

from aigw.common.crypto import SecretBox

Jwk = dict[str, str]  # a public key as a JWK (RFC 7517): every member of ours is a string


def _b64url(raw: bytes) -> str:
    """Unpadded base64url text (the JOSE encoding), with PyJWT's helper."""
    return base64url_encode(raw).decode()


def _context(kid: str) -> str:
    # Binds the ciphertext to its kid: a sealed key copied under another kid does not open.
    return f"keymanager-signing-key:{kid}"


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> Self:
        return cls(uuid.uuid4().hex[:16], Ed25519PrivateKey.generate())

    def public_jwk(self) -> Jwk:
        x = _b64url(self.private_key.public_key().public_bytes_raw())
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": x,
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }

    def seal(self, box: SecretBox) -> str:
        return box.encrypt(_b64url(self.private_key.private_bytes_raw()), _context(self.kid))

    @classmethod
    def unseal(cls, kid: str, sealed: str, box: SecretBox) -> Self:
        raw = base64url_decode(box.decrypt(sealed, _context(kid)))
        return cls(kid, Ed25519PrivateKey.from_private_bytes(raw))


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The key that signs new tokens, and every public key that may still verify one."""

    active: SigningKey
    public_keys: list[Jwk] = field(default_factory=list)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(k) for k in self.public_keys]}

    def public_key(self, kid: str) -> jwt.PyJWK | None:
        """The key that verifies tokens of `kid`, if it is in the JWKS (still trusted)."""
        for jwk in self.public_keys:
            if jwk.get("kid") == kid:
                return jwt.PyJWK(jwk)
        return None

    async def fetch_jwks(self) -> dict[str, Any]:
        """The `JwksCache` fetch seam, served from memory instead of over HTTP."""
        return self.jwks()
