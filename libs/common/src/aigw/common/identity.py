"""Who may say what on the event bus: one identity per service, and its subjects.

Each service has one secret, an NATS nkey seed. It authenticates the service's NATS connection
(challenge-response: nats-server knows only the public key) and, through a key derived from it
with HKDF, signs every event the service emits. The derived key is separate on purpose: the
seed also signs nonces chosen by the NATS server, and a key that signs server-chosen bytes must
never sign events too.

`PUBLISHES` is the single table both sides of the bus read: the NATS server's per-user publish
permissions are generated from it (aigw.devtools.nats_auth), and consumers refuse a verified
event whose subject its signer may not publish.
"""

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nkeys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SERVICES = ("publisher", "devportal", "keymanager", "gateway")
# Creates and configures the streams (make run, the tests, a deployment's set-up job); it may
# publish no event.
PROVISIONER = "provisioner"
# Folds the events stream as a gateway does and writes the routing table's snapshot, signed, to
# the `AIGW_SNAPSHOTS` object store, where a starting gateway reads it instead of verifying
# every event (aigw.gateway.snapshotter). Not a gateway: a gateway is the edge, and a snapshot
# every gateway loads must not be something one compromised gateway can write.
SNAPSHOTTER = "snapshotter"
IDENTITIES = (*SERVICES, SNAPSHOTTER, PROVISIONER)

QUOTA_SYNC_SUBJECT = "aigwq.usage"
USAGE_SUBJECT = "aigw.usage.recorded"
# The gateways' shared response cache: a JetStream key-value bucket (aigw.gateway.cache) whose
# entries only gateways write (and sign) and read
CACHE_BUCKET = "AIGW_CACHE"
CACHE_SUBJECTS = f"$KV.{CACHE_BUCKET}.>"
# The routing table's shared snapshot: a JetStream object store only the snapshotter writes
SNAPSHOT_BUCKET = "AIGW_SNAPSHOTS"
SNAPSHOT_SUBJECTS = f"$O.{SNAPSHOT_BUCKET}.>"

PUBLISHES: Mapping[str, tuple[str, ...]] = {
    "publisher": ("aigw.api.>", "aigw.vendor.>", "aigw.policy.>"),
    "devportal": ("aigw.application.>", "aigw.subscription.>"),
    "keymanager": (
        "aigw.key.>",
        "aigw.signingkey.>",
        "aigw.oauthclient.>",
        "aigw.token.>",
        "aigw.user.>",
    ),
    "gateway": (USAGE_SUBJECT, QUOTA_SYNC_SUBJECT, CACHE_SUBJECTS),
    SNAPSHOTTER: (SNAPSHOT_SUBJECTS,),
    PROVISIONER: (),
}

_EVENT_KEY_INFO = b"aigw event signing key v1"


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: `*` is one token, `>` one or more trailing tokens."""
    want, got = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or token not in ("*", got[i]):
            return False
    return len(want) == len(got)


def may_publish(identity: str, subject: str) -> bool:
    return any(subject_matches(p, subject) for p in PUBLISHES.get(identity, ()))


def decode_user_seed(seed: str) -> bytes:
    """The 32 raw bytes of an nkey user seed (`SU...`); ValueError if it is not one."""
    try:
        prefix, raw = nkeys.decode_seed(bytearray(seed.strip().encode()))
    except (nkeys.NkeysError, binascii.Error, ValueError):
        raise ValueError("not an nkey seed (bad encoding, length or checksum)") from None
    if prefix != nkeys.PREFIX_BYTE_USER:
        raise ValueError("not an nkey user seed")
    return bytes(raw)


def _event_key(raw_seed: bytes) -> Ed25519PrivateKey:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_EVENT_KEY_INFO)
    return Ed25519PrivateKey.from_private_bytes(derived.derive(raw_seed))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Identity:
    """A service's own identity: its NATS seed and the event key derived from it."""

    name: str
    seed: str = field(repr=False)  # the secret: never in a log line or a traceback

    @classmethod
    def generate(cls, name: str) -> "Identity":
        seed = nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER)
        return cls(name, seed.decode())

    @classmethod
    def load(cls, name: str, seed_file: Path) -> "Identity":
        seed = seed_file.read_text().strip()
        decode_user_seed(seed)  # a clear error at start, not at the first connection
        return cls(name, seed)

    @property
    def nats_public_key(self) -> str:
        public: bytes = nkeys.from_seed(bytearray(self.seed.encode())).public_key
        return public.decode()

    def event_key(self) -> Ed25519PrivateKey:
        return _event_key(decode_user_seed(self.seed))

    @property
    def event_public_key(self) -> str:
        public = self.event_key().public_key()
        return b64url(public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def inbox_prefix(self) -> str:
        return inbox_prefix(self.name)

    def connect_options(self) -> dict[str, str]:
        """nats-py `connect` options that log in as this identity, replies in its own inbox."""
        return {"nkeys_seed_str": self.seed, "inbox_prefix": self.inbox_prefix}


def inbox_prefix(identity: str) -> str:
    """Replies to an identity arrive under its own prefix, which only it may read."""
    return f"_INBOX_{identity}"


def pull_inbox_prefix(identity: str) -> bytes:
    """The prefix of a FastStream pull subscriber's fetch inbox (FastStream's default is its
    own `_inbox.`, which no identity may read)."""
    return f"{inbox_prefix(identity)}.".encode()


def write_trust_file(path: Path, identities: Mapping[str, Identity]) -> None:
    """The services' event-signing public keys (not secret: every consumer reads them).

    Keys the file listed before for an identity stay listed after its current one: events in
    the stream were signed with them, and a gateway replaying the stream must still verify
    those (rotating a service's seed must not empty the routing table)."""
    previous = _read_keys(path) if path.exists() else {}
    keys = {
        name: [identity.event_public_key]
        + [k for k in previous.get(name, []) if k != identity.event_public_key]
        for name, identity in identities.items()
    }
    path.write_text(json.dumps({"eventKeys": keys}, indent=2) + "\n")


def _read_keys(path: Path) -> dict[str, list[str]]:
    data = json.loads(path.read_text())
    keys = data.get("eventKeys") if isinstance(data, dict) else None
    if not isinstance(keys, dict):
        raise ValueError(f"{path}: no 'eventKeys' object")  # noqa: TRY004 - a settings error
    return {
        str(name): [value] if isinstance(value, str) else list(value)
        for name, value in keys.items()
    }


def read_trust_file(path: Path) -> dict[str, list[Ed25519PublicKey]]:
    """Each identity's event keys, the current one first."""
    return {
        name: [Ed25519PublicKey.from_public_bytes(unb64url(str(key))) for key in keys]
        for name, keys in _read_keys(path).items()
    }


def emitter_of(subject: str) -> str | None:
    """The one identity that may publish `subject`, if any."""
    return next((name for name in PUBLISHES if may_publish(name, subject)), None)
