"""Stream messages as the emitting services sign them, without a NATS server (the offline
credentials of tests/support/offline.py), for unit tests of what the gateway's fold accepts:
`signed(payloads)` gives (sequence, subject, body, headers) per event, `verifier()` checks them."""

import functools
from pathlib import Path

from aigw.common.event_trust import EventSigner, EventVerifier
from aigw.common.events import EventPayload
from aigw.common.identity import Identity, read_trust_file
from aigw.common.messaging import signed_message
from tests.support.bus import emitted
from tests.support.offline import offline_bus_settings

Message = tuple[int, str, bytes, dict[str, str]]


@functools.cache
def signer(identity: str) -> EventSigner:
    seed = offline_bus_settings(identity)["nats_seed_file"]
    return EventSigner(Identity.load(identity, Path(seed)))


def verifier() -> EventVerifier:
    return EventVerifier(read_trust_file(offline_bus_settings("gateway")["trust_file"]))


def signed(payloads: list[EventPayload], first_sequence: int = 1) -> list[Message]:
    """Each payload as its emitter publishes it, numbered as the stream would."""
    messages = []
    for sequence, payload in enumerate(payloads, first_sequence):
        event = emitted(payload)
        body, headers = signed_message(event, signer(event.source))
        messages.append((sequence, event.type, body, headers))
    return messages
