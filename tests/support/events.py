"""Read what landed on the JetStream event stream, for assertions."""

import asyncio
import contextlib
from typing import Any

import nats
from nats.js.api import DeliverPolicy
from pydantic import ValidationError

from aigw.common.events import Envelope
from aigw.common.identity import subject_matches
from aigw.common.messaging import stream_for
from tests.support.infra import connect_options


async def stream_events(nats_url: str, subject: str = "aigw.>") -> list[Envelope]:
    """Every event currently in the stream that holds `subject`, oldest first."""
    stream = stream_for(subject)
    nc = await nats.connect(nats_url, **connect_options())
    try:
        js = nc.jetstream()
        last = (await js.stream_info(stream)).state.last_seq
        if last == 0:
            return []
        sub = await js.subscribe(
            "aigw.>", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL, stream=stream
        )
        events: list[Envelope] = []
        while True:  # read up to the sequence that was last when we asked: no idle guessing
            msg = await sub.next_msg(timeout=10)
            if subject_matches(subject, msg.subject):
                with contextlib.suppress(ValidationError):  # some tests publish garbage on purpose
                    events.append(Envelope.model_validate_json(msg.data))
            if msg.metadata.sequence.stream >= last:
                break
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
