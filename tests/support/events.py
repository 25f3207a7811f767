"""Read what landed on the JetStream event stream, for assertions."""

import asyncio
from typing import Any

import nats
from nats.js.api import DeliverPolicy

from aigw.common.events import Envelope
from aigw.common.messaging import STREAM_NAME


async def stream_events(nats_url: str, subject: str = "aigw.>") -> list[Envelope]:
    """Every event currently in the stream on `subject`, oldest first."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(STREAM_NAME)
        if info.state.messages == 0:
            return []
        sub = await js.subscribe(
            subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL, stream=STREAM_NAME
        )
        events: list[Envelope] = []
        while True:
            try:
                msg = await sub.next_msg(timeout=0.3)
            except (TimeoutError, nats.errors.TimeoutError):
                break
            events.append(Envelope.model_validate_json(msg.data))
        await sub.unsubscribe()
        return events
    finally:
        await nc.close()


async def wait_for_event(
    nats_url: str, event_type: str, subject_id: str, timeout: float = 5.0
) -> Envelope:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for event in await stream_events(nats_url, event_type):
            if event.subject == subject_id:
                return event
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {event_type} event for {subject_id} within {timeout}s")
        await asyncio.sleep(0.1)


def payloads(events: list[Envelope]) -> list[dict[str, Any]]:
    return [e.data for e in events]
