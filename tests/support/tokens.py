"""Management tokens for testing one service without running keymanager.

Mints EdDSA JWTs exactly as keymanager does and serves the matching JWKS through the
`jwks_fetcher` seam of each service's `create_app`.
"""

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aigw.common.auth import ISSUER, MANAGEMENT_AUDIENCE


class TestSigner:
    __test__ = False

    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex[:16]
        self._key = Ed25519PrivateKey.generate()

    def jwks(self) -> dict[str, Any]:
        jwk: dict[str, Any] = jwt.algorithms.OKPAlgorithm.to_jwk(  # type: ignore[attr-defined]
            self._key.public_key(), as_dict=True
        )
        return {"keys": [{**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    async def fetch_jwks(self) -> dict[str, Any]:
        return self.jwks()

    def token(
        self, subject: str = "admin", roles: tuple[str, ...] = ("admin",), ttl: int = 600
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": MANAGEMENT_AUDIENCE,
            "sub": subject,
            "roles": list(roles),
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})

    def auth(self, subject: str = "admin", roles: tuple[str, ...] = ("admin",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, roles)}"}
