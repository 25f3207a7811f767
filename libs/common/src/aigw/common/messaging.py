"""NATS JetStream wiring: the streams that hold the events, and publishing signed events.

Two streams, so that the gateway's replay never reads the bulk of the traffic:

- `AIGW_EVENTS`: every management event (`aigw.api.>`, `aigw.key.>`...), kept for good: it is
  what the gateway folds into its routing table and the audit trail;
- `AIGW_USAGE`: the gateways' usage batches (`aigw.usage.recorded`), read by publisher and
  devportal through durable consumers and kept `usage_max_age` (default 7 days).

Services never create or reconfigure streams (their NATS identities may not): `provision`,
run with the provisioner identity by `make run`, the tests and a deployment's set-up job, does.
"""

from datetime import timedelta

from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from aigw.common.event_trust import EventSigner
from aigw.common.events import Envelope
from aigw.common.identity import (
    PUBLISHES,
    QUOTA_SYNC_SUBJECT,
    USAGE_SUBJECT,
)

STREAM_NAME = "AIGW_EVENTS"
USAGE_STREAM_NAME = "AIGW_USAGE"
# every event subject a service may publish, but usage (its own stream) and quota sync (core
# NATS, outside any stream: ephemeral and high rate)
STREAM_SUBJECTS = [
    subject
    for subjects in PUBLISHES.values()
    for subject in subjects
    if subject not in (USAGE_SUBJECT, QUOTA_SYNC_SUBJECT)
]
USAGE_STREAM_SUBJECTS = ["aigw.usage.>"]
STREAMS = (STREAM_NAME, USAGE_STREAM_NAME)
DUPLICATE_WINDOW_SECONDS = 120.0
DEFAULT_USAGE_MAX_AGE = timedelta(days=7)

__all__ = [
    "QUOTA_SYNC_SUBJECT",
    "STREAMS",
    "STREAM_NAME",
    "STREAM_SUBJECTS",
    "USAGE_STREAM_NAME",
    "EventBus",
    "provision",
    "signed_message",
    "stream_for",
]


def stream_for(subject: str) -> str:
    return USAGE_STREAM_NAME if subject == USAGE_SUBJECT else STREAM_NAME


def stream_configs(usage_max_age: timedelta = DEFAULT_USAGE_MAX_AGE) -> list[StreamConfig]:
    return [
        StreamConfig(
            name=STREAM_NAME,
            subjects=STREAM_SUBJECTS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
        StreamConfig(
            name=USAGE_STREAM_NAME,
            subjects=USAGE_STREAM_SUBJECTS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=usage_max_age.total_seconds(),
        ),
    ]


# Stream metadata set when a stream from before signed events is first provisioned: the last
# sequence it held then. Those events were published unsigned by the services of the time, and
# the gateway folds them without a signature; every later one must be signed. Only the
# provisioner may change a stream's configuration, so no service can move this mark.
UNSIGNED_THROUGH = "aigw_unsigned_through"
LEGACY_SUBJECTS = ["aigw.>"]


async def provision(js: JetStreamContext, usage_max_age: timedelta = DEFAULT_USAGE_MAX_AGE) -> None:
    """Create the streams, or bring existing ones to this configuration (idempotent)."""
    for config in stream_configs(usage_max_age):
        try:
            info = await js.stream_info(str(config.name))
        except NotFoundError:
            await js.add_stream(config)
            continue
        metadata = dict(info.config.metadata or {})
        if config.name == STREAM_NAME and info.config.subjects == LEGACY_SUBJECTS:
            metadata.setdefault(UNSIGNED_THROUGH, str(info.state.last_seq))
        if UNSIGNED_THROUGH in metadata:
            config.metadata = {
                **(config.metadata or {}),
                UNSIGNED_THROUGH: metadata[UNSIGNED_THROUGH],
            }
        await js.update_stream(config)


def unsigned_through(metadata: dict[str, str] | None) -> int:
    """The last sequence of events from before signing (0: every event must be signed)."""
    value = (metadata or {}).get(UNSIGNED_THROUGH, "0")
    return int(value) if value.isdigit() else 0


def signed_message(event: Envelope, signer: EventSigner) -> tuple[bytes, dict[str, str]]:
    """The event's body and headers: its id as the message id (de-duplication), its signature."""
    body = event.model_dump_json().encode()
    return body, {
        "Nats-Msg-Id": event.id,
        "content-type": "application/cloudevents+json",
        **signer.headers(event.type, body),
    }


class EventBus:
    """Publishes signed envelopes to JetStream."""

    def __init__(self, broker: NatsBroker, signer: EventSigner) -> None:
        self._broker = broker
        self._signer = signer

    async def publish(self, event: Envelope) -> None:
        if not self._broker.connection.is_connected:
            # fail fast: the outbox keeps the event and its sweep retries once NATS is back,
            # rather than each management request waiting out the publish timeout
            raise ConnectionError("NATS is not connected")
        body, headers = signed_message(event, self._signer)
        await self._broker.publish(
            body, subject=event.type, stream=stream_for(event.type), headers=headers, timeout=5.0
        )
