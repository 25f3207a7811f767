"""What every devportal event and document shares: who acted, under which correlation id."""

from dataclasses import dataclass
from datetime import datetime

from aigw.common.events import Envelope, EventPayload, new_event
from aigw.common.ids import utcnow

SOURCE = "devportal"


@dataclass(frozen=True, slots=True)
class Actor:
    subject: str
    correlation_id: str | None

    def event(self, payload: EventPayload) -> Envelope:
        return new_event(
            payload, source=SOURCE, actor=self.subject, correlation_id=self.correlation_id
        )


def now_ms() -> datetime:
    # MongoDB keeps milliseconds: truncate so the document and the response agree.
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
