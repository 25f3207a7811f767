"""The event fold: each message of the event stream, verified, parsed and applied to the
routing table (routing.builder), in stream order.

It also keeps what it folded, for the table snapshot (routing.snapshot): the raw envelope of
every verified event the builder routes on, with its stream sequence. Loading those and
folding the stream from the sequence after gives the table a full replay gives, since the
builder is a deterministic function of those events in order (every other event leaves the
table as it is). An event is verified (aigw.common.event_trust) before it is kept, so a
snapshot holds only what this gateway accepted; an untrusted one is dropped and counted, one it
cannot parse, or of a type it does not know, is logged and skipped: one bad event must not stop
routing.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from aigw.common.crypto import SecretBox
from aigw.common.event_trust import SIGNATURE_HEADER, EventVerifier, RejectedEvent
from aigw.common.events import Envelope
from aigw.gateway.routing import builder
from aigw.gateway.routing.decode import PayloadDecoder
from aigw.gateway.routing.table import RoutingTable

log = logging.getLogger(__name__)

Folded = tuple[int, bytes]  # (stream sequence, the envelope as it was on the stream)


@dataclass
class EventFold:
    table: RoutingTable
    verifier: EventVerifier
    box: SecretBox | None
    unsigned_through: int = 0  # events up to here may be unsigned (messaging.UNSIGNED_THROUGH)
    last_sequence: int = 0  # the last stream sequence folded (or skipped)
    keep: bool = False  # keep what a snapshot holds (only with one: it costs its size in RAM)
    kept: list[Folded] = field(default_factory=list)  # what a snapshot holds
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
            if self._apply(envelope) and self.keep:
                self.kept.append((sequence, body))
        except RejectedEvent as exc:
            log.warning("dropping untrusted event #%d: %s", sequence, exc)
        except (ValidationError, ValueError) as exc:
            log.warning("skipping unparseable event #%d on %s: %s", sequence, subject, exc)
        except Exception:  # one bad event must not stop routing
            log.exception("skipping event #%d on %s: cannot fold it", sequence, subject)
        self.last_sequence = sequence

    def restore(self, last_sequence: int, kept: Iterable[Folded]) -> None:
        """Fold what a snapshot kept (verified when it was first folded; the snapshot's HMAC
        or signature vouches it is what was folded) and continue after `last_sequence`. Each
        event is dropped once folded unless kept: `kept` may read them from the snapshot's
        body one at a time (routing.snapshot.SnapshotEvents)."""
        self.kept = []
        for sequence, body in kept:
            try:
                self._apply(Envelope.model_validate_json(body))
            except (ValidationError, ValueError) as exc:
                log.warning("skipping unparseable snapshot event #%d: %s", sequence, exc)
            if self.keep:
                self.kept.append((sequence, body))
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

    def _apply(self, envelope: Envelope) -> bool:
        """Apply the envelope's payload; whether it is one the builder routes on."""
        if envelope.type not in builder.ROUTED_TYPES:
            return False
        payload = self._decoder.payload(envelope)
        if payload is None:
            return False
        try:
            builder.apply(self.table, payload, self.box)
        except Exception:
            log.exception("skipping event %s (%s): cannot apply it", envelope.id, envelope.type)
        return True
