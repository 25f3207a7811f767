"""The routing table's snapshot on local disk (`GATEWAY_STATE_DIR/routing-snapshot.bin`), so a
gateway restarted while NATS is down serves from the table it had, and a restart replays only
the events after the snapshot.

What it holds is the fold's input, not its output: of every verified event the builder routes
on (routing.fold), its sequence, type, data version and `data` as the envelope carried it, and
the last stream sequence folded. Restoring it and following the stream from that sequence + 1
gives exactly the table a full replay gives (the builder is a deterministic function of those
payloads in order; the other events leave the table alone). Provider keys stay as the events
carry them, sealed under AIGW_SECRET_KEY: the file holds no secret in plaintext.

The file:

    MAGIC, u32 header length, header (JSON), then per event: u64 sequence, u8 type (its index
    in the header's `types`), u16 data version, u32 length, data (JSON); then HMAC-SHA256 of
    everything before it

under a key derived from AIGW_SECRET_KEY. Only `data` is kept of an envelope (its id, source,
time and actor do not change the table): a restore validates each payload straight from it,
and the file is half the size the envelopes made. The header names the format version, the
stream and when it was created (a stream deleted and made again restarts its sequences), the
last sequence, a digest of the trusted emitters' keys (what was accepted under another trust is
not kept) and of the event types the builder routes on with their data versions (a build that
routes on more, or reads one at a newer version, must replay them). A file that fails any check
is refused, the reason logged, and the gateway replays the whole stream; it is written whole or
not at all (aigw.common.durable).
"""

import hashlib
import hmac
import json
import logging
import struct
from collections.abc import Buffer, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aigw.common.durable import atomic_write
from aigw.common.events import EVENT_TYPES
from aigw.common.messaging import STREAM_NAME
from aigw.gateway.routing.builder import ROUTED_TYPES
from aigw.gateway.routing.fold import Kept

log = logging.getLogger(__name__)

FILE_NAME = "routing-snapshot.bin"
FORMAT = 2
MAGIC = b"AIGWSNAP"
_LENGTH = struct.Struct(">I")
_EVENT = struct.Struct(">QBHI")  # sequence, type index, data version, length
_MAC = hashlib.sha256().digest_size
# the types the builder routes on and their data versions: a build that routes on more types,
# or reads one at another version, replays them rather than trust another build's snapshot
ROUTED_DIGEST = hashlib.sha256(
    ",".join(f"{name}:{EVENT_TYPES[name].VERSION}" for name in sorted(ROUTED_TYPES)).encode()
).hexdigest()
if len(ROUTED_TYPES) > 0xFF:  # each event's type is one byte: an index into the header's list
    raise RuntimeError("more routed event types than the snapshot's format holds")


@dataclass(frozen=True)
class Snapshot:
    sequence: int  # the last stream sequence folded
    stream_created: str  # the stream's creation time, as JetStream reports it
    events: Collection[Kept]  # a list, or SnapshotEvents read from a body


class SnapshotRefused(Exception):
    """The file is not one to restore from; the message says why."""


def encode(snapshot: Snapshot, trust: str) -> bytes:
    """The snapshot's body: everything but the seal (the local file's HMAC, or the shared
    snapshot's signature, routing.shared_snapshot)."""
    types = sorted({event.type for event in snapshot.events})
    index = {name: i for i, name in enumerate(types)}
    header = json.dumps(
        {
            "format": FORMAT,
            "stream": STREAM_NAME,
            "streamCreated": snapshot.stream_created,
            "sequence": snapshot.sequence,
            "events": len(snapshot.events),
            "types": types,
            "trust": trust,
            "routed": ROUTED_DIGEST,
            "writtenAt": datetime.now(UTC).isoformat(),
        }
    ).encode()
    parts = [MAGIC, _LENGTH.pack(len(header)), header]
    for sequence, event_type, version, data in snapshot.events:
        parts += (_EVENT.pack(sequence, index[event_type], version, len(data)), data)
    return b"".join(parts)


def decode(body: Buffer, trust: str) -> Snapshot:
    """The snapshot a body holds (once its seal verified); SnapshotRefused if it is not one
    this build, under this trust, may restore. Its events are read from the body as they are
    iterated (`SnapshotEvents`), once its layout checked whole: nothing is copied up front."""
    view = memoryview(body).cast("B")
    if view[: len(MAGIC)] != MAGIC:
        raise SnapshotRefused("not a routing table snapshot")
    try:
        return _parse(view, trust)
    except (ValueError, KeyError, TypeError, struct.error) as exc:
        raise SnapshotRefused(f"it cannot be parsed: {exc!r}") from exc


def _parse(view: memoryview, trust: str) -> Snapshot:
    offset = len(MAGIC)
    (length,) = _LENGTH.unpack_from(view, offset)
    offset += _LENGTH.size
    header = json.loads(bytes(view[offset : offset + length]))
    offset += length
    if not isinstance(header, dict):
        raise SnapshotRefused("its header is not a JSON object")
    _check(header, trust)
    types = header["types"]
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise SnapshotRefused("its header's event types are not a list of names")
    events = SnapshotEvents(view[offset:], types)
    if len(events) != header["events"]:
        raise SnapshotRefused("its events do not add up to its header")
    return Snapshot(int(header["sequence"]), str(header["streamCreated"]), events)


class SnapshotEvents(Collection[Kept]):
    """A snapshot's events, each copied out of the body only when iterated to: a restore folds
    and drops them one at a time, as a replay does its messages, instead of holding 130,000
    payloads at once (their memory, freed amid the table's objects, stayed with the process:
    `make bench-replay`). The layout is checked whole when it is made."""

    def __init__(self, view: memoryview, types: list[str]) -> None:
        self._view = view
        self._types = types
        self._count = 0
        offset = 0
        while offset < len(view):
            _, type_index, version, size = _EVENT.unpack_from(view, offset)
            if type_index >= len(types):
                raise SnapshotRefused(f"an event's type is not in its header ({type_index})")
            if version < 1:
                raise SnapshotRefused("an event's data version is 0")
            offset += _EVENT.size + size
            self._count += 1
        if offset != len(view):
            raise SnapshotRefused("its events do not add up to its header")

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Kept]:
        view, types, offset = self._view, self._types, 0
        while offset < len(view):
            sequence, type_index, version, size = _EVENT.unpack_from(view, offset)
            offset += _EVENT.size
            yield Kept(sequence, types[type_index], version, bytes(view[offset : offset + size]))
            offset += size

    def __contains__(self, event: object) -> bool:
        return any(event == e for e in self)


def _check(header: dict[str, object], trust: str) -> None:
    if header.get("format") != FORMAT:
        raise SnapshotRefused(f"format {header.get('format')!r}, this build reads {FORMAT}")
    if header.get("stream") != STREAM_NAME:
        raise SnapshotRefused(f"it is of stream {header.get('stream')!r}")
    if header.get("trust") != trust:
        raise SnapshotRefused("the trusted emitters (AIGW_TRUST_FILE) changed since")
    if header.get("routed") != ROUTED_DIGEST:
        raise SnapshotRefused("this build routes on other event types")


class SnapshotFile:
    """The gateway's own snapshot on disk, sealed with an HMAC under AIGW_SECRET_KEY."""

    def __init__(self, directory: Path, key: bytes, trust: str) -> None:
        self.path = directory / FILE_NAME
        self._key = key
        self._trust = trust

    def encode(self, snapshot: Snapshot) -> bytes:
        data = encode(snapshot, self._trust)
        return data + hmac.new(self._key, data, hashlib.sha256).digest()

    def write(self, snapshot: Snapshot) -> int:
        """Write (atomically) and return the file's size."""
        data = self.encode(snapshot)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, data)
        return len(data)

    def load(self) -> Snapshot | None:
        """The snapshot, None when there is none; SnapshotRefused when it may not be used."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SnapshotRefused(f"cannot read it: {exc}") from exc
        return self.decode(data)

    def decode(self, data: bytes) -> Snapshot:
        """The snapshot, read from `data` as it is iterated (no copy of the body)."""
        view = memoryview(data)
        body, mac = view[:-_MAC], view[-_MAC:]
        if len(data) < len(MAGIC) + _LENGTH.size + _MAC or body[: len(MAGIC)] != MAGIC:
            raise SnapshotRefused("not a routing table snapshot")
        expected = hmac.new(self._key, body, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected):
            raise SnapshotRefused("its HMAC does not verify (altered, or another AIGW_SECRET_KEY)")
        return decode(body, self._trust)
