"""NATS JetStream wiring: the one stream that holds every event, and publishing into it."""

from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError

from aigw.common.events import Envelope

STREAM_NAME = "AIGW_EVENTS"
STREAM_SUBJECTS = ["aigw.>"]
DUPLICATE_WINDOW_SECONDS = 120.0
# Gateways share quota usage over core NATS, outside the event stream (ephemeral, high rate):
# the subject must not match STREAM_SUBJECTS.
QUOTA_SYNC_SUBJECT = "aigwq.usage"


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the event stream, or bring an existing one to this configuration (idempotent)."""
    config = StreamConfig(
        name=STREAM_NAME,
        subjects=STREAM_SUBJECTS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


class EventBus:
    """Publishes envelopes to JetStream; the event id doubles as the message id (de-duplication)."""

    def __init__(self, broker: NatsBroker) -> None:
        self._broker = broker

    async def publish(self, event: Envelope) -> None:
        if not self._broker.connection.is_connected:
            # fail fast: the outbox keeps the event and its sweep retries once NATS is back,
            # rather than each management request waiting out the publish timeout
            raise ConnectionError("NATS is not connected")
        await self._broker.publish(
            event.model_dump_json().encode(),
            subject=event.type,
            stream=STREAM_NAME,
            headers={"Nats-Msg-Id": event.id, "content-type": "application/cloudevents+json"},
            timeout=5.0,
        )
