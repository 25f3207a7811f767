"""The services' publishing of signed events to JetStream, over their FastStream broker."""

from faststream.nats import NatsBroker

from aigw.common.event_trust import EventSigner
from aigw.common.events import Envelope
from aigw.common.messaging import signed_message, stream_for


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
