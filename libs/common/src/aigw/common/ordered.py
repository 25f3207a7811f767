"""Reading a JetStream stream in order, and resuming at once after NATS comes back.

nats-py's ordered consumer (`js.subscribe(ordered_consumer=True)`) notices a lost consumer only
after two missed idle heartbeats (5 s each by default): after a NATS restart, or the loss of
the cluster node that held the consumer, a follower saw new events 10-15 s late. An
`OrderedReader` does the same job (an ephemeral push consumer, no acks, flow control, one
replica in memory: what publisher's and the gateway's identities may create) and recreates
its consumer from the sequence after the last one it delivered as soon as

- the connection says it reconnected (`reconnected()`, wired to nats-py's `reconnected_cb`
  through `Reconnects`),
- a message or a heartbeat shows a gap in the consumer's sequence, or
- nothing, not even a heartbeat, came for two heartbeat intervals (1 s each by default).

Messages are handed to `handle` one at a time, in stream order, each once: a message at or
below the last delivered stream sequence (the old consumer's, or one read again after a reset)
is skipped. Flow control is answered only once every earlier message has been handled, so a
slow handler holds the server back instead of piling messages up in memory.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

log = logging.getLogger(__name__)

Handle = Callable[[Msg], Awaitable[None]]
Callback = Callable[[], Awaitable[None]]

_STATUS, _DESCRIPTION = "Status", "Description"
_LAST_CONSUMER, _STALLED = "Nats-Last-Consumer", "Nats-Consumer-Stalled"
_RETRY_SECONDS = (0.05, 0.1, 0.2, 0.3, 0.5)  # then every 0.5 s while JetStream is not back


class Reconnects:
    """Fans nats-py's one `reconnected_cb` out to everything that must act on a reconnect
    (ordered readers, the outbox relay). Pass `reconnects.fire` as `reconnected_cb`."""

    def __init__(self) -> None:
        self._listeners: list[Callback] = []

    def subscribe(self, listener: Callback) -> Callable[[], None]:
        """Call `listener` after every reconnect; returns what unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def fire(self) -> None:
        for listener in list(self._listeners):
            try:
                await listener()
            except Exception:  # one listener must not keep the others from hearing it
                log.exception("a reconnect listener failed")


@dataclass(frozen=True)
class Start:
    """Where a reader starts: the stream sequence to read first (1: from the beginning), or
    the last message of each subject (a key-value bucket's current values)."""

    sequence: int = 1
    last_per_subject: bool = False


class OrderedReader:
    def __init__(
        self,
        nc: NatsClient,
        stream: str,
        subject: str,
        handle: Handle,
        *,
        start: Start | None = None,
        heartbeat: float = 1.0,
        name: str = "ordered reader",
    ) -> None:
        self._nc = nc
        self._stream = stream
        self._subject = subject
        self._handle = handle
        self._start = start or Start()
        self._heartbeat = heartbeat
        self.name = name
        self.last_sequence = self._start.sequence - 1  # the last stream sequence handed out
        self.resets = 0  # consumers recreated after the first (for tests and metrics)
        self._generation = 0
        self._next_delivery = 1  # the consumer sequence the current consumer sends next
        self._seen_at = time.monotonic()
        self._queue: asyncio.Queue[tuple[int, Msg]] = asyncio.Queue()
        self._sub: Subscription | None = None
        self._wanted = asyncio.Event()  # a (re)creation is asked for
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Create the consumer (raises if JetStream refuses: the caller retries), then read."""
        try:
            await self._create()
        except BaseException:
            await self._drop_subscription()
            raise
        self._tasks = [
            asyncio.create_task(self._work(), name=f"{self.name}: handle"),
            asyncio.create_task(self._keep(), name=f"{self.name}: consumer"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._drop_subscription()

    async def reconnected(self) -> None:
        """The connection is back: the consumer may be gone with the server that held it."""
        self.reset("NATS reconnected")

    def reset(self, why: str) -> None:
        """Recreate the consumer from the sequence after the last delivered one, at once."""
        if not self._wanted.is_set():
            log.info("%s: recreating its consumer from sequence %d (%s)", self.name,
                     self.last_sequence + 1, why)  # fmt: skip
        self._generation += 1  # whatever the old consumer still sends is ignored
        self._wanted.set()

    # the consumer

    async def _keep(self) -> None:
        """Recreates the consumer when asked, or when it went quiet for two heartbeats."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), self._heartbeat)
            if not self._wanted.is_set():
                if time.monotonic() - self._seen_at < 2 * self._heartbeat + 0.5:
                    continue
                self.reset("no message or heartbeat for two heartbeat intervals")
            await self._recreate()

    async def _recreate(self) -> None:
        attempt = 0
        while self._wanted.is_set():
            self._wanted.clear()
            try:
                await self._create()
            except Exception as exc:  # noqa: BLE001 - JetStream not back yet: try again soon
                self._wanted.set()
                delay = _RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)]
                attempt += 1
                log.debug("%s: consumer not created yet (%r), retrying", self.name, exc)
                await asyncio.sleep(delay)
            else:
                self.resets += 1

    async def _create(self) -> None:
        await self._drop_subscription()
        generation = self._generation
        inbox = self._nc.new_inbox()

        async def deliver(msg: Msg) -> None:
            self._queue.put_nowait((generation, msg))

        self._next_delivery = 1
        self._seen_at = time.monotonic()
        self._sub = await self._nc.subscribe(inbox, cb=deliver)
        await self._nc.jetstream().add_consumer(self._stream, self._config(inbox), timeout=1.0)

    def _config(self, inbox: str) -> ConsumerConfig:
        if self._start.last_per_subject and self.last_sequence < self._start.sequence:
            policy, sequence = DeliverPolicy.LAST_PER_SUBJECT, None
        else:
            policy, sequence = DeliverPolicy.BY_START_SEQUENCE, self.last_sequence + 1
        return ConsumerConfig(
            deliver_subject=inbox,
            filter_subject=self._subject,
            deliver_policy=policy,
            opt_start_seq=sequence,
            ack_policy=AckPolicy.NONE,
            max_deliver=1,
            flow_control=True,
            idle_heartbeat=self._heartbeat,
            mem_storage=True,
            num_replicas=1,
            inactive_threshold=max(5.0, 5 * self._heartbeat),  # an abandoned one goes away
        )

    async def _drop_subscription(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    # the messages, one at a time

    async def _work(self) -> None:
        while True:
            generation, msg = await self._queue.get()
            if generation != self._generation:
                continue  # from a consumer already replaced
            self._seen_at = time.monotonic()
            headers = msg.headers or {}
            if not msg.data and headers.get(_STATUS) == "100":
                await self._control(msg, headers)
                continue
            await self._data(msg)

    async def _control(self, msg: Msg, headers: dict[str, str]) -> None:
        description = headers.get(_DESCRIPTION, "")
        if description.startswith("Flow"):
            await self._answer(msg.reply)  # every earlier message has been handled
        elif description.startswith("Idle"):
            await self._answer(headers.get(_STALLED))
            last = headers.get(_LAST_CONSUMER)
            if last is not None and last.isdigit() and int(last) != self._next_delivery - 1:
                self.reset(f"heartbeat says {last} sent, {self._next_delivery - 1} received")

    async def _answer(self, reply: str | None) -> None:
        if reply:
            with contextlib.suppress(Exception):  # a lost answer: the server asks again
                await self._nc.publish(reply)

    async def _data(self, msg: Msg) -> None:
        try:
            delivery, sequence = _sequences(msg)
        except (nats.errors.Error, AttributeError, ValueError, IndexError):
            log.warning("%s: a message without JetStream metadata on %s", self.name, msg.subject)
            return
        if delivery != self._next_delivery:
            self.reset(f"consumer sequence {delivery}, expected {self._next_delivery}")
            return
        self._next_delivery = delivery + 1
        if sequence <= self.last_sequence:
            return  # already handed out (read again after a reset)
        self.last_sequence = sequence
        try:
            await self._handle(msg)
        except Exception:  # the handler's own failure must not stop the reader
            log.exception("%s: handling sequence %d failed", self.name, sequence)


def _sequences(msg: Msg) -> tuple[int, int]:
    """(consumer sequence, stream sequence) of a JetStream message."""
    metadata: Any = msg.metadata
    return int(metadata.sequence.consumer), int(metadata.sequence.stream)
