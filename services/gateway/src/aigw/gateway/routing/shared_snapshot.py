"""The routing table's shared snapshot: one object, `routing-table`, in the `AIGW_SNAPSHOTS`
JetStream object store, written by the snapshotter (aigw.gateway.snapshotter) and read by a
gateway that starts with no table of its own.

A full replay checks every event's signature (about 40 µs each: 5 s of CPU at 130,000 events);
a gateway that restores the shared snapshot checks one signature, restores the events the
snapshot holds (verified by the snapshotter when it folded them) and replays only the newer
ones. The object's body is the local snapshot's (routing.snapshot: the header, then each routed
event's sequence, type, data version and data) without the local file's HMAC; the snapshotter
signs its SHA-256 (`sha256=` and the 32 bytes; signing the 80 MB body itself made three copies
of it and hashed it again, about 0.5 s of a gateway's start at 130,000 events, `make
bench-replay`) as it would an event on the object's meta subject, `$O.AIGW_SNAPSHOTS.M.<name>` (which only it
may publish: aigw.common.identity.PUBLISHES, the NATS permissions), and the signature travels
in the object's headers (`Aigw-Signer`, `Aigw-Signature`). A reader accepts the object only if
its chunks add up to the size and SHA-256 its meta states, the signature verifies with the
snapshotter's key from the trust file, and the body is a snapshot this build may restore
(format, stream, trusted emitters, routed types; routing.snapshot). Anything else is refused
with its reason and the gateway replays the whole stream: a missing, stale or refused shared
snapshot costs time, never correctness. The chunks are copied into one buffer of the stated
size and hashed as they arrive; only once all of it verified are its events read from it, one
at a time as they are folded (routing.snapshot.SnapshotEvents).

The layout is JetStream's object store's (chunks on `$O.<bucket>.C.<nuid>`, a JSON meta message
per object), so `nats object get AIGW_SNAPSHOTS routing-table` reads it too. nats-py's own
`ObjectStore.get` is not used to read: it joins the chunks with `bytes +=` (quadratic in the
object's size) and asks for a consumer API the gateway's NATS identity may not call.
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Buffer, Mapping

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import ObjectMeta, ObjectMetaOptions
from nats.js.errors import NotFoundError

from aigw.common.event_trust import (
    SIGNATURE_HEADER,
    SIGNER_HEADER,
    EventSigner,
    EventVerifier,
    RejectedEvent,
)
from aigw.common.identity import SNAPSHOT_BUCKET, SNAPSHOTTER
from aigw.common.messaging import SNAPSHOT_STREAM_NAME
from aigw.common.ordered import OrderedReader, Start
from aigw.gateway.routing.snapshot import Snapshot, SnapshotRefused, decode, encode

log = logging.getLogger(__name__)

OBJECT_NAME = "routing-table"
CHUNK_BYTES = 512 * 1024  # well under NATS's default 1 MB message limit
MAX_BYTES = 1 << 30  # a larger object is refused unread
STALL_SECONDS = 5.0


def _encoded_name(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


META_SUBJECT = f"$O.{SNAPSHOT_BUCKET}.M.{_encoded_name(OBJECT_NAME)}"


class SharedSnapshots:
    """Reads (every gateway) and writes (the snapshotter, given its signer) the shared
    snapshot, under the verifier's trust (a snapshot made under another is refused)."""

    def __init__(self, verifier: EventVerifier, signer: EventSigner | None = None) -> None:
        self._verifier = verifier
        self._trust = verifier.fingerprint()
        self._signer = signer

    async def load(self, nc: NatsClient) -> Snapshot | None:
        """The shared snapshot, None when there is none; SnapshotRefused when it may not be
        restored (the message says why)."""
        try:
            meta = await nc.jetstream().get_last_msg(SNAPSHOT_STREAM_NAME, META_SUBJECT)
        except NotFoundError:
            return None
        info = _meta(meta.data or b"")
        if info.get("deleted"):
            return None
        size, chunks = _positive(info, "size"), _positive(info, "chunks")
        if size > MAX_BYTES:
            raise SnapshotRefused(f"it is {size} bytes, more than the {MAX_BYTES} read at most")
        subject = f"$O.{SNAPSHOT_BUCKET}.C.{info.get('nuid')}"
        body, digest = await _read_chunks(nc, subject, chunks, size)
        _check_digest(digest, str(info.get("digest", "")))
        return self._open(body, digest, info.get("headers"))

    async def write(self, nc: NatsClient, snapshot: Snapshot) -> int:
        """Put the snapshot (replacing the last one) and return its size in bytes."""
        body, headers = self.seal(snapshot)
        store = await nc.jetstream().object_store(SNAPSHOT_BUCKET)
        meta = ObjectMeta(
            name=OBJECT_NAME,
            description=f"aigw routing table at stream sequence {snapshot.sequence}",
            headers=headers,
            options=ObjectMetaOptions(max_chunk_size=CHUNK_BYTES),
        )
        await store.put(OBJECT_NAME, body, meta=meta)
        return len(body)

    def seal(self, snapshot: Snapshot) -> tuple[bytes, dict[str, list[str]]]:
        """The object's body and its headers (the signature), as `write` puts them."""
        assert self._signer is not None, "only the snapshotter writes the shared snapshot"
        body = encode(snapshot, self._trust)
        signed = self._signer.headers(META_SUBJECT, _signed(hashlib.sha256(body).digest()))
        return body, {name: [value] for name, value in signed.items()}  # as nats.go's Header

    def open(self, body: bytes, headers: object) -> Snapshot:
        """The snapshot an object's body holds, once its headers' signature verified as the
        snapshotter's; SnapshotRefused otherwise."""
        return self._open(body, hashlib.sha256(body).digest(), headers)

    def _open(self, body: Buffer, digest: bytes, headers: object) -> Snapshot:
        self._authenticate(digest, _headers(headers))  # before anything is read from the body
        return decode(body, self._trust)

    def _authenticate(self, digest: bytes, headers: Mapping[str, str]) -> None:
        try:
            signer = self._verifier.authenticate(META_SUBJECT, _signed(digest), headers)
        except RejectedEvent as exc:
            raise SnapshotRefused(f"its signature is refused ({exc})") from None
        if signer != SNAPSHOTTER:  # only the snapshotter may publish there: belt and braces
            raise SnapshotRefused(f"it is signed by {signer}, not the snapshotter")


def _signed(digest: bytes) -> bytes:
    """What the snapshotter signs: the body's SHA-256, labelled."""
    return b"sha256=" + digest


def _meta(data: bytes) -> dict[str, object]:
    try:
        info = json.loads(data)
    except ValueError:
        raise SnapshotRefused("its meta message is not JSON") from None
    if not isinstance(info, dict):
        raise SnapshotRefused("its meta message is not an object")
    return info


def _positive(info: Mapping[str, object], field: str) -> int:
    value = info.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise SnapshotRefused(f"its meta states no {field} ({value!r})")
    return value


def _headers(raw: object) -> dict[str, str]:
    """The object's headers as single values (nats.go writes each as a list of values)."""
    if not isinstance(raw, dict):
        return {}
    headers: dict[str, str] = {}
    for name in (SIGNER_HEADER, SIGNATURE_HEADER):
        value = raw.get(name)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, str):
            headers[name] = value
    return headers


def _check_digest(digest: bytes, stated: str) -> None:
    """Refused unless the chunks' SHA-256 is the one the meta states."""
    algorithm, _, encoded = stated.partition("=")
    if algorithm.upper() != "SHA-256":
        raise SnapshotRefused(f"its digest is not SHA-256 ({stated[:16]!r})")
    expected = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if digest != expected:
        raise SnapshotRefused("its chunks do not match its digest (altered or incomplete)")


async def _read_chunks(
    nc: NatsClient, subject: str, chunks: int, size: int
) -> tuple[bytearray, bytes]:
    """The object's `chunks` chunks in order, through an ordered consumer, and their SHA-256:
    copied into one buffer of the `size` its meta states and hashed as they arrive (not a list
    of chunks joined, then hashed: the body's size three times over); refused when they hold
    more or less than `size`, or when none arrives for `STALL_SECONDS` (the snapshotter
    replaced the object and purged these chunks while they were read, or NATS went away)."""
    body = bytearray(size)
    digest = hashlib.sha256()
    filled = received = 0
    done = asyncio.Event()
    arrived = time.monotonic()

    async def take(msg: Msg) -> None:
        nonlocal arrived, filled, received
        arrived = time.monotonic()
        if received == chunks:
            return
        data = msg.data
        received += 1
        if filled + len(data) <= size:
            body[filled : filled + len(data)] = data
            digest.update(data)
        filled += len(data)
        if received == chunks:
            done.set()

    reader = OrderedReader(
        nc, SNAPSHOT_STREAM_NAME, subject, take, start=Start(1), name="shared snapshot reader"
    )
    await reader.start()
    try:
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.5)
            if not done.is_set() and time.monotonic() - arrived > STALL_SECONDS:
                raise SnapshotRefused(
                    f"only {received} of its {chunks} chunks arrived (none for "
                    f"{STALL_SECONDS:g} s: replaced meanwhile?)"
                )
    finally:
        await reader.stop()
    if filled != size:
        raise SnapshotRefused(f"its chunks hold {filled} bytes, its meta says {size}")
    return body, digest.digest()
