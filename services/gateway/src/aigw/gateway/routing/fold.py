"""The event fold: each message of the event stream, verified, parsed and applied to the
routing table (routing.builder), in stream order.

It also keeps what it folded, for the table snapshot (routing.snapshot): of every verified
event the builder routes on, its stream sequence, type, data version and `data` as the envelope
carried it (`Kept`; the rest of the envelope, its id, time and actor, does not change the
table). Folding those and then the stream from the sequence after gives the table a full replay
gives, since the builder is a deterministic function of those payloads in order (every other
event leaves the table as it is). An event is verified (aigw.common.event_trust) before it is
kept, so a snapshot holds only what this gateway accepted; an untrusted one is dropped and
counted, one it cannot parse, or of a type it does not know, is logged and skipped: one bad
event must not stop routing.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from pydantic import ValidationError
from pydantic_core import to_json

from aigw.common.crypto import SecretBox
from aigw.common.event_trust import SIGNATURE_HEADER, EventVerifier, RejectedEvent
from aigw.common.events import Envelope, EventPayload
from aigw.gateway.routing import builder
from aigw.gateway.routing.decode import PayloadDecoder
from aigw.gateway.routing.table import RoutingTable

log = logging.getLogger(__name__)


# an envelope's `dataversion` is kept in two bytes; an event beyond that is not read at all
MAX_DATA_VERSION = 0xFFFF


class Kept(NamedTuple):
    """What a snapshot holds of one event the table was built from."""

    sequence: int  # its stream sequence
    type: str
    version: int  # the data version of `data`, as the envelope said (1..MAX_DATA_VERSION)
    data: bytes  # the envelope's `data`, as JSON


@dataclass
class EventFold:
    table: RoutingTable
    verifier: EventVerifier
    box: SecretBox | None
    unsigned_through: int = 0  # events up to here may be unsigned (messaging.UNSIGNED_THROUGH)
    last_sequence: int = 0  # the last stream sequence folded (or skipped)
    keep: bool = False  # keep what a snapshot holds (only with one: it costs its size in RAM)
    kept: list[Kept] = field(default_factory=list)  # what a snapshot holds
    _decoder: PayloadDecoder = field(default_factory=PayloadDecoder, repr=False)

    def message(
        self, sequence: int, subject: str, body: bytes, headers: Mapping[str, str] | None
    ) -> None:
        """Fold one stream message (whatever it holds, `sequence` is then the last one). A
        subject the table does not route on is passed over unread (its type is its subject:
        whatever it holds, it would be refused or ignored)."""
        if subject not in builder.ROUTED_TYPES:
            self.last_sequence = sequence
            return
        try:
            envelope = self._open(sequence, subject, body, headers)
            if not 1 <= envelope.dataversion <= MAX_DATA_VERSION:
                raise ValueError(f"data version {envelope.dataversion} is out of range")
            payload = self._decoder.payload(envelope)
            # encoded before it is applied: the table never holds what the snapshot would lack
            data = to_json(envelope.data) if self.keep else b""
            if payload is not None and self._apply(payload, envelope.id) and self.keep:
                self.kept.append(Kept(sequence, payload.TYPE, envelope.dataversion, data))
        except RejectedEvent as exc:
            log.warning("dropping untrusted event #%d: %s", sequence, exc)
        except (ValidationError, ValueError) as exc:
            log.warning("skipping unparseable event #%d on %s: %s", sequence, subject, exc)
        except Exception:  # one bad event must not stop routing
            log.exception("skipping event #%d on %s: cannot fold it", sequence, subject)
        self.last_sequence = sequence

    def restore(self, last_sequence: int, kept: Iterable[Kept]) -> None:
        """Fold what a snapshot kept (verified when it was first folded; the snapshot's HMAC
        or signature vouches it is what was folded) and continue after `last_sequence`. Each
        event is dropped once folded unless kept: `kept` may read them from the snapshot's
        body one at a time (routing.snapshot.SnapshotEvents)."""
        self.kept = []
        for event in kept:
            try:
                payload = self._decoder.restored(event.type, event.version, event.data)
            except (ValidationError, ValueError, TypeError) as exc:
                log.warning("skipping unparseable snapshot event #%d: %s", event.sequence, exc)
                continue
            except Exception:  # one bad event must not stop the restore (nor every restart)
                log.exception("skipping snapshot event #%d: cannot read it", event.sequence)
                continue
            if payload is not None and self._apply(payload, f"#{event.sequence}") and self.keep:
                self.kept.append(event)
        self.last_sequence = last_sequence

    def reset(self) -> None:
        """Empty again, for a full replay from the stream's first message."""
        self.table.clear()
        self.kept = []
        self.last_sequence = 0

    def _open(
        self, sequence: int, subject: str, body: bytes, headers: Mapping[str, str] | None
    ) -> Envelope:
        """The verified envelope; events from before signing are folded as they are."""
        if sequence <= self.unsigned_through and SIGNATURE_HEADER not in (headers or {}):
            return Envelope.model_validate_json(body)
        return self.verifier.open(subject, body, headers)

    def _apply(self, payload: EventPayload, what: str) -> bool:
        """Apply the payload (`what`: the event, for a log line); whether it is one the builder
        routes on."""
        if payload.TYPE not in builder.ROUTED_TYPES:
            return False
        try:
            builder.apply(self.table, payload, self.box)
        except Exception:
            log.exception("skipping event %s (%s): cannot apply it", what, payload.TYPE)
        return True
