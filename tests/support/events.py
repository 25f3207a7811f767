"""What lands on the JetStream event streams, for assertions.

- `expect_event`: the event an action emits. It subscribes *before* the action (only events
  published from then on count) and waits for the first that matches:

      async with expect_event("aigw.api.deployed", subject=api_id) as deployed:
          await client.post(f"/apis/{api_id}/deploy")
      assert (await deployed).data["revision"] == 1

  Leaving the block waits for the event (a failure names what was awaited and what of that
  type did arrive); `await` on it, inside or after the block, gives it. When the subject is
  the id the action makes, name it inside the block with `.about(id)`; `.seen` holds every
  event of the type delivered meanwhile (all of a walkthrough's, say).
- `wait_for_event`: the first matching event already in the stream, or the next one: for
  events emitted before the test could subscribe (e.g. while a fixture started a service).
- `stream_events`: every event on a subject now in the stream, oldest first (one read);
  `stream_messages` the same with each one's JetStream message id (`Nats-Msg-Id`).
"""

import contextlib
from collections.abc import AsyncIterator, Callable, Generator
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from pydantic import ValidationError

from aigw.common.events import Envelope
from aigw.common.messaging import stream_for
from tests.support.infra import connect_options, session_infra
from tests.support.waiting import eventually

DEFAULT_TIMEOUT = 10.0
Match = Callable[[Envelope], bool]


def _envelope(msg: Msg) -> Envelope | None:
    with contextlib.suppress(ValidationError):  # some tests publish garbage on purpose
        return Envelope.model_validate_json(msg.data)
    return None


class ExpectedEvent:
    """The first event of `type` (a subject, wildcards allowed) about `subject` for which
    `where` holds, among those delivered since the subscription. When the subject is known
    only from the action's answer (an id it made), name it with `about` inside the block."""

    def __init__(self, type: str, subject: str | None, where: Match | None, timeout: float) -> None:
        self.type, self.subject, self.where, self.timeout = type, subject, where, timeout
        self.seen: list[Envelope] = []  # every event of `type` delivered, matching or not

    def about(self, subject: str) -> None:
        self.subject = subject

    def matches(self, event: Envelope) -> bool:
        if self.subject is not None and event.subject != self.subject:
            return False
        return self.where is None or self.where(event)

    def first(self) -> Envelope | None:
        return next((event for event in self.seen if self.matches(event)), None)

    async def on_message(self, msg: Msg) -> None:
        if (event := _envelope(msg)) is not None:
            self.seen.append(event)

    async def wait(self) -> Envelope:
        try:
            found = await eventually(self.first, timeout=self.timeout, interval=0.01)
        except AssertionError:
            raise AssertionError(self._failure()) from None
        assert found is not None
        return found

    def __await__(self) -> Generator[Any, None, Envelope]:
        return self.wait().__await__()

    def _failure(self) -> str:
        about = f" about {self.subject}" if self.subject is not None else ""
        condition = " matching the condition" if self.where is not None else ""
        arrived = [(e.type, e.subject) for e in self.seen[-10:]]
        return (
            f"no {self.type} event{about}{condition} within {self.timeout:g}s\n"
            f"  last seen of that type: {arrived or 'none'}"
        )


@contextlib.asynccontextmanager
async def _connection(nats_url: str | None = None) -> AsyncIterator[NatsClient]:
    """The provisioner's connection (it may read every stream), to the session's server."""
    url = nats_url or session_infra().nats_url
    nc = await nats.connect(servers=url.split(","), **connect_options())  # a cluster's list too
    try:
        yield nc
    finally:
        await nc.close()


@contextlib.asynccontextmanager
async def _watching(
    type: str,
    subject: str | None,
    where: Match | None,
    timeout: float,
    deliver: DeliverPolicy,
    nats_url: str | None = None,
) -> AsyncIterator[ExpectedEvent]:
    async with _connection(nats_url) as nc:
        expected = ExpectedEvent(type, subject, where, timeout)
        # the consumer exists once subscribe returns: nothing published after it is missed
        sub = await nc.jetstream().subscribe(
            type,
            stream=stream_for(type),
            ordered_consumer=True,
            deliver_policy=deliver,
            cb=expected.on_message,
        )
        try:
            yield expected
        finally:
            await sub.unsubscribe()


@contextlib.asynccontextmanager
async def expect_event(
    type: str,
    subject: str | None = None,
    *,
    where: Match | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    nats_url: str | None = None,
) -> AsyncIterator[ExpectedEvent]:
    """The first `type` event about `subject` (and for which `where` holds) published after
    entering the block; leaving the block waits for it (unless the block raised). `nats_url`:
    a NATS of the test's own; else the session's."""
    async with _watching(type, subject, where, timeout, DeliverPolicy.NEW, nats_url) as expected:
        yield expected
        await expected


async def wait_for_event(
    nats_url: str, event_type: str, subject_id: str, timeout: float = DEFAULT_TIMEOUT
) -> Envelope:
    """The first `event_type` event about `subject_id` in the stream, read from its start
    (waiting for it if it is not there yet)."""
    watching = _watching(event_type, subject_id, None, timeout, DeliverPolicy.ALL, nats_url)
    async with watching as expected:
        return await expected


async def stream_events(nats_url: str, subject: str = "aigw.>") -> list[Envelope]:
    """Every event now in the stream that holds `subject` (wildcards allowed), oldest first."""
    return [event for _, event in await stream_messages(nats_url, subject)]


async def stream_messages(nats_url: str, subject: str = "aigw.>") -> list[tuple[str, Envelope]]:
    """Every event now in the stream that holds `subject`, oldest first, each with the
    JetStream message id it was published under (`Nats-Msg-Id`; "" when it had none)."""
    async with _connection(nats_url) as nc:
        js = nc.jetstream()
        stream = stream_for(subject)
        counts = (await js.stream_info(stream, subjects_filter=subject)).state.subjects or {}
        expected = sum(counts.values())  # read exactly those: no idle guessing
        if expected == 0:
            return []
        sub = await js.subscribe(
            subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL, stream=stream
        )
        messages: list[tuple[str, Envelope]] = []
        for _ in range(expected):
            msg = await sub.next_msg(timeout=10)
            if (event := _envelope(msg)) is not None:
                messages.append(((msg.headers or {}).get("Nats-Msg-Id", ""), event))
        await sub.unsubscribe()
        return messages


def payloads(events: list[Envelope]) -> list[dict[str, Any]]:
    return [e.data for e in events]
