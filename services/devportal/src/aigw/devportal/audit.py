"""What every devportal event and document shares: who acted, under which correlation id."""

from dataclasses import dataclass

from aigw.common.events import Envelope, EventPayload, new_event

SOURCE = "devportal"


@dataclass(frozen=True, slots=True)
class Actor:
    subject: str
    correlation_id: str | None

    def event(self, payload: EventPayload) -> Envelope:
        return new_event(
            payload, source=SOURCE, actor=self.subject, correlation_id=self.correlation_id
        )
