"""AES-256-GCM encryption of secrets at rest and in events, under `AIGW_SECRET_KEY`.

A ciphertext is the text `v1.<kid>.<base64url(nonce + ciphertext + tag)>`: the key id travels
beside it so the master key can be rotated and old ciphertexts still name the key they need.
The associated data binds a ciphertext to its purpose (e.g. the API id and endpoint), so a
ciphertext copied to another record does not decrypt.
"""

import base64
import hashlib
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_master_key(text: str) -> bytes:
    """`AIGW_SECRET_KEY` is 32 random bytes, base64 (url-safe or standard) encoded."""
    try:
        key = _b64decode(text.strip().replace("+", "-").replace("/", "_"))
    except ValueError as exc:
        raise ValueError("AIGW_SECRET_KEY must be base64 of 32 random bytes") from exc
    if len(key) != 32:
        raise ValueError(
            "AIGW_SECRET_KEY must be base64 of 32 random bytes "
            '(generate one with: python -c "import secrets,base64;'
            'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())")'
        )
    return key


def generate_master_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


class SecretBox:
    """Encrypts and decrypts short secrets under one master key."""

    def __init__(self, master_key: str) -> None:
        key = decode_master_key(master_key)
        self.kid = hashlib.sha256(key).hexdigest()[:12]
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_PREFIX}.{self.kid}.{body}"

    def decrypt(self, token: str, context: str) -> str:
        prefix, kid, body = token.split(".", 2)
        if prefix != _PREFIX or kid != self.kid:
            raise ValueError(f"ciphertext was sealed with key {kid!r}, not {self.kid!r}")
        raw = _b64decode(body)
        return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()


def mask_secret(secret: str) -> str:
    """What a response may show of a secret: its last four characters at most."""
    return "****" + secret[-4:] if len(secret) >= 16 else "****"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def provider_key_context(api_id: str, endpoint: str) -> str:
    """Associated data for a provider key ciphertext: binds it to one API and endpoint
    ("production" or "sandbox"). Publisher encrypts and the gateway decrypts with it."""
    return f"provider-key:{api_id}:{endpoint}"
