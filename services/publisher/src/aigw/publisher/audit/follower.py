"""Keeps the audit projection folded from the `AIGW_EVENTS` stream.

An ordered reader (aigw.common.ordered: an ordered push consumer, the only way publisher's NATS
identity may read that stream, as it can create no durable consumer there; recreated from the
next sequence as soon as NATS reconnects) starts after the projection's checkpoint, so a restart
reads only what is new and a dropped projection is folded again from the stream's first event. Each
event is verified (aigw.common.event_trust) before it is folded: an unsigned, wrongly signed or
wrongly sourced one is dropped and counted in `aigw_events_rejected_total`, like every other
consumer does. Events are written in batches, each followed by the checkpoint; a store outage
holds the fold (and, through flow control, the consumer) until the store is back.

Until the fold has reached the end of the stream as it stood at start the audit API answers 503:
a trail that is still being rebuilt would answer with a partial history.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pymongo.errors import PyMongoError

from aigw.common.event_trust import EventVerifier, accept
from aigw.common.messaging import STREAM_NAME
from aigw.common.ordered import OrderedReader, Reconnects, Start
from aigw.common.retry import until_done
from aigw.publisher.audit.projection import Links, fold
from aigw.publisher.audit.repository import AuditDoc, AuditRepository, LinkDoc

log = logging.getLogger(__name__)

EVERY_EVENT = "aigw.>"
BATCH = 500
_STORE_RETRY_SECONDS = 1.0


class AuditFollower:
    def __init__(
        self,
        connection: NatsClient,
        verifier: EventVerifier,
        repo: AuditRepository,
        reconnects: Reconnects | None = None,
    ) -> None:
        self._nc = connection
        self._reconnects = reconnects
        self._verifier = verifier
        self._repo = repo
        self._queue: asyncio.Queue[Msg] = asyncio.Queue(maxsize=BATCH * 4)
        self._caught_up = asyncio.Event()
        self._target = 0  # the stream's last sequence when the fold started
        self._reader: OrderedReader | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def caught_up(self) -> bool:
        return self._caught_up.is_set()

    async def wait_caught_up(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), timeout)
        return self.caught_up

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="audit-follower")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._reader is not None:
            await self._reader.stop()

    async def _run(self) -> None:
        links = Links(await self._until_stored(self._repo.links))
        checkpoint: int = await self._until_stored(self._repo.checkpoint)
        await until_done(lambda: self._subscribe(checkpoint), "the events stream", log)
        await self._fold(links, checkpoint)

    async def _subscribe(self, checkpoint: int) -> None:
        js = self._nc.jetstream()
        self._target = (await js.stream_info(STREAM_NAME)).state.last_seq
        if checkpoint >= self._target:
            self._mark_caught_up(checkpoint)
        reader = OrderedReader(
            self._nc,
            STREAM_NAME,
            EVERY_EVENT,
            self._queue.put,  # a full queue holds the consumer back
            start=Start(sequence=checkpoint + 1),
            name="audit follower",
        )
        await reader.start()
        self._reader = reader
        if self._reconnects is not None:
            self._unsubscribe = self._reconnects.subscribe(reader.reconnected)

    async def _fold(self, links: Links, checkpoint: int) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            checkpoint = await self._write(batch, links, checkpoint)
            if checkpoint >= self._target or _pending(batch[-1]) == 0:
                self._mark_caught_up(checkpoint)

    async def _write(self, batch: list[Msg], links: Links, checkpoint: int) -> int:
        docs: list[AuditDoc] = []
        new_links: list[LinkDoc] = []
        for msg in batch:
            seq = _sequence(msg)
            if seq is None or seq <= checkpoint:
                continue  # not from the stream, or already folded
            checkpoint = seq
            envelope = accept(self._verifier, msg.subject, msg.data, msg.headers)
            if envelope is None:
                continue
            try:
                folded = fold(seq, envelope, msg.data.decode(), links)
            except Exception:  # one event the fold cannot read must not stop the trail
                log.exception("audit projection: skipping event %s (seq %d)", envelope.id, seq)
                continue
            docs.append(folded.doc)
            for link in folded.links:
                links.known[link["_id"]] = link["value"]
            new_links += folded.links
        await self._until_stored(lambda: self._repo.write(docs, new_links, checkpoint))
        return checkpoint

    async def _until_stored[T](self, write: Callable[[], Awaitable[T]]) -> T:
        while True:
            try:
                result = await write()
            except PyMongoError as exc:
                log.warning("audit projection: the store failed (%s); retrying", exc)
                await asyncio.sleep(_STORE_RETRY_SECONDS)
            else:
                return result

    def _mark_caught_up(self, checkpoint: int) -> None:
        if not self._caught_up.is_set():
            log.info("audit trail caught up with the events stream (sequence %d)", checkpoint)
        self._caught_up.set()


def _pending(msg: Msg) -> int | None:
    """How many events the stream held after this one when it was delivered."""
    with contextlib.suppress(nats.errors.Error, AttributeError, ValueError):
        return int(msg.metadata.num_pending)
    return None


def _sequence(msg: Msg) -> int | None:
    with contextlib.suppress(nats.errors.Error, AttributeError, ValueError):
        return int(msg.metadata.sequence.stream)
    return None
