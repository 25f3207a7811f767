"""AES-256-GCM encryption of secrets at rest and in events, under `AIGW_SECRET_KEY`.

A ciphertext is the text `v1.<kid>.<base64url(nonce + ciphertext + tag)>`: the key id travels
beside it so the master key can be rotated and old ciphertexts still name the key they need.
The associated data binds a ciphertext to its purpose (e.g. the API id, endpoint and the
origin a provider key is sent to), so a ciphertext copied to another record, or kept for an
endpoint pointed elsewhere, does not decrypt.
"""

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

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
    """Encrypts short secrets under the current master key; decrypts under any key it knows.

    `previous` holds retired master keys while their ciphertexts still exist (in the store or
    in events on the stream); re-encrypting moves everything to the current key.
    """

    def __init__(self, master_key: str, previous: Sequence[str] = ()) -> None:
        self.kid, self._aead = _keyed(master_key)
        self._by_kid = {self.kid: self._aead}
        for old in previous:
            kid, aead = _keyed(old)
            self._by_kid.setdefault(kid, aead)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_PREFIX}.{self.kid}.{body}"

    def decrypt(self, token: str, context: str) -> str:
        prefix, kid, body = token.split(".", 2)
        aead = self._by_kid.get(kid)
        if prefix != _PREFIX or aead is None:
            raise ValueError(f"ciphertext was sealed with key {kid!r}, which is not configured")
        raw = _b64decode(body)
        return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()

    def is_current(self, token: str) -> bool:
        """False when the ciphertext should be re-encrypted under the current key."""
        return token.split(".", 2)[1] == self.kid


def _keyed(master_key: str) -> tuple[str, AESGCM]:
    key = decode_master_key(master_key)
    return hashlib.sha256(key).hexdigest()[:12], AESGCM(key)


def mask_secret(secret: str) -> str:
    """What a response may show of a secret: its last four characters at most."""
    return "****" + secret[-4:] if len(secret) >= 16 else "****"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_DEFAULT_PORTS = {"http": 80, "https": 443}


def endpoint_origin(url: str | None) -> str:
    """Where a request to `url` goes: `scheme://host:port`, scheme and host lower-cased, the
    default port made explicit, path, query and user info dropped. "" for no URL (a key set
    for an endpoint whose URL is not set yet is bound to no origin). Raises ValueError for a
    URL without a host or with an invalid port."""
    if url is None:
        return ""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), parts.hostname  # hostname is lower-cased already
    if not host:
        raise ValueError("an endpoint URL needs a host")
    port = parts.port  # raises ValueError on a bad port
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def provider_key_context(api_id: str, endpoint: str, url: str | None) -> str:
    """Associated data for a provider key ciphertext: binds it to one API, endpoint
    ("production", "sandbox" or an additional endpoint's name) and the origin of the URL it is
    sent to (`endpoint_origin`; the path is not bound), so a deploy that points the endpoint
    elsewhere cannot reuse the ciphertext. The publisher seals and the gateway opens with it."""
    return f"provider-key:v2:{api_id}:{endpoint}:{endpoint_origin(url)}"


def legacy_provider_key_context(api_id: str, endpoint: str) -> str:
    """The associated data before origins were bound (API id and endpoint only): read once,
    by `make rotate-secret-key`, to reseal such ciphertexts for their endpoint's origin."""
    return f"provider-key:{api_id}:{endpoint}"


def derived_key(master_key: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose (e.g. the HMAC of a state file), derived from the master
    key so that the master key itself is used only for AES-GCM."""
    return hmac.new(decode_master_key(master_key), b"aigw-derived-v1\x00" + purpose.encode(),
                    hashlib.sha256).digest()  # fmt: skip
