"""Tokens minted by keymanager verify with the shared TokenVerifier; forgeries do not."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization

from aigw.common.auth import ISSUER, MANAGEMENT_AUDIENCE, JwksCache, TokenVerifier
from aigw.common.crypto import SecretBox, generate_master_key
from aigw.common.errors import Unauthorized
from aigw.keymanager.signing.keys import KeyRing, SigningKey
from aigw.keymanager.signing.tokens import mint_token


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _segment(obj: dict[str, object]) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def _claims(ttl: int = 600) -> dict[str, object]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": MANAGEMENT_AUDIENCE, "sub": "mallory", "roles": ["admin"],
            "iat": now, "exp": now + ttl}  # fmt: skip


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def verifier(key: SigningKey) -> TokenVerifier:
    ring = KeyRing(active=key, public_keys=[key.public_jwk()])
    return TokenVerifier(JwksCache(ring.fetch_jwks))


async def _rejected(verifier: TokenVerifier, token: str) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(token)
    assert caught.value.status_code == 401
    return caught.value


async def test_round_trip(key: SigningKey, verifier: TokenVerifier) -> None:
    token = mint_token(key, "alice", ["publisher"], ttl_seconds=60)
    principal = await verifier.verify(token)
    assert principal.subject == "alice"
    assert principal.roles == frozenset({"publisher"})
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["kid"] == key.kid
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60
    assert claims["jti"]


async def test_expired_token_rejected(key: SigningKey, verifier: TokenVerifier) -> None:
    token = mint_token(key, "alice", ["admin"], ttl_seconds=-10)
    assert "expired" in (await _rejected(verifier, token)).description


async def test_tampered_signature_rejected(key: SigningKey, verifier: TokenVerifier) -> None:
    head, body, sig = mint_token(key, "alice", ["subscriber"], 60).split(".")
    forged_body = _segment({**jwt.decode(f"{head}.{body}.{sig}", options={"verify_signature": False}),
                            "roles": ["admin"]})  # fmt: skip
    await _rejected(verifier, f"{head}.{forged_body}.{sig}")
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    await _rejected(verifier, f"{head}.{body}.{flipped}")


async def test_token_from_another_key_rejected(verifier: TokenVerifier) -> None:
    stranger = SigningKey.generate()
    await _rejected(verifier, mint_token(stranger, "alice", ["admin"], 60))


async def test_alg_none_rejected(key: SigningKey, verifier: TokenVerifier) -> None:
    token = f"{_segment({'alg': 'none', 'typ': 'JWT', 'kid': key.kid})}.{_segment(_claims())}."
    await _rejected(verifier, token)


async def test_hs256_signed_with_public_key_rejected(
    key: SigningKey, verifier: TokenVerifier
) -> None:
    public = key.private_key.public_key()
    for secret in (
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        key.public_jwk()["x"].encode(),
    ):
        signing_input = (
            f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid})}.{_segment(_claims())}"
        )
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        await _rejected(verifier, f"{signing_input}.{_b64(mac)}")


def test_public_jwk_shape(key: SigningKey) -> None:
    jwk = key.public_jwk()
    assert jwk.keys() == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert "d" not in jwk


def test_sealed_key_round_trip_and_is_not_plaintext(key: SigningKey) -> None:
    box = SecretBox(generate_master_key())
    sealed = key.seal(box)
    raw = key.private_key.private_bytes_raw()
    assert _b64(raw) not in sealed
    assert raw.hex() not in sealed
    opened = SigningKey.unseal(key.kid, sealed, box)
    assert opened.private_key.private_bytes_raw() == raw
    with pytest.raises(InvalidTag):  # the ciphertext is bound to its kid
        SigningKey.unseal("other-kid", sealed, box)
