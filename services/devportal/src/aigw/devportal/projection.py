"""devportal's read models of other services' entities (the catalogue, plans, vendor
definitions): each is one durable pull consumer of the event stream that verifies every event
and folds it into its own collection. A domain's `projection.py` holds its fold (which events
change what), its `repository.py` the collection; this module the consumer and the guard they
share.

A pull consumer can be shared by replicas and hands out messages in stream order; every write
of a read model is conditional on the event being newer than the one that last wrote the
document (`upsert_if_newer`), so replays and redeliveries are no-ops and replicas' writes stay
consistent. The consumer is named after the database it fills: a new database gets a new
consumer that replays the whole stream, a restart resumes where it was.

`read_model_current` says whether a read model has folded everything the stream holds: what it
lacks is then truly absent, while one that is cut off from NATS or behind cannot say (its use
cases answer 503 "not known yet" instead of a wrong 404).
"""

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated

import nats.errors
from faststream import AckPolicy, Context
from faststream.nats import DeliverPolicy, JStream, NatsMessage, NatsRouter, PullSub
from nats.aio.client import Client as NatsClient
from nats.js.api import ConsumerInfo
from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from aigw.common.event_trust import EventVerifier, accept
from aigw.common.events import Envelope
from aigw.common.identity import pull_inbox_prefix
from aigw.common.messaging import STREAM_NAME
from aigw.common.mongo import Document

log = logging.getLogger(__name__)

Db = AsyncDatabase[Document]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def consumer_name(kind: str, database: str) -> str:
    """Durable names may not contain '.', '*', '>' or whitespace."""
    return f"devportal-{kind}-" + re.sub(r"[^A-Za-z0-9_-]", "_", database)


def event_micros(time: datetime) -> int:
    """Envelope time as an exact integer (`event_us`): BSON dates keep only milliseconds."""
    aware = time if time.tzinfo is not None else time.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


async def read_model_current(
    nc: NatsClient, kind: str, database: str, wait: float = 3.0, poll: float = 0.05
) -> bool:
    """Whether read model `kind` has folded every event the stream held when asked: its
    consumer is connected and, within `wait` seconds, has delivered what was pending then
    and acknowledged everything up to it. Events published after the question do not count,
    so a busy stream cannot turn an unknown entity's 404 into a 503; a consumer cut off from
    NATS, or still replaying, answers False."""
    deadline = asyncio.get_running_loop().time() + wait
    deliveries: int | None = None  # the consumer's delivery count that covers the question
    folded_through: int | None = None  # the stream sequence that must be acknowledged
    while True:
        info = await _consumer_info(nc, consumer_name(kind, database), poll * 10)
        if info is None:
            return False
        delivered = info.delivered.consumer_seq if info.delivered else 0
        if deliveries is None:
            deliveries = delivered + (info.num_pending or 0)
        if folded_through is None and delivered >= deliveries:
            folded_through = info.delivered.stream_seq if info.delivered else 0
        acked = info.ack_floor.stream_seq if info.ack_floor else 0
        if folded_through is not None and (info.num_ack_pending == 0 or acked >= folded_through):
            return True
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(poll)  # polling the consumer's progress: time passing is the point


async def _consumer_info(nc: NatsClient, name: str, timeout: float) -> ConsumerInfo | None:
    if not nc.is_connected:
        return None
    try:
        info: ConsumerInfo = await nc.jetstream().consumer_info(STREAM_NAME, name, timeout=timeout)
        return info
    except (nats.errors.Error, TimeoutError):
        return None


async def upsert_if_newer(
    collection: AsyncCollection[Document], key: str, at: int, fields: Mapping[str, object]
) -> bool:
    """Write `fields` to document `key` unless an event at least as new (`at`, in
    microseconds) already wrote it; False for a stale or replayed event."""
    try:
        await collection.update_one(
            {"_id": key, "event_us": {"$lt": at}},
            {"$set": {**fields, "event_us": at}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the stored document is as new or newer
    return True


def projection_router[R](
    kind: str,
    subject: str,
    database: str,
    repository: Callable[[Db], R],
    fold: Callable[[R, Envelope], Awaitable[None]],
) -> NatsRouter:
    """The consumer of read model `kind`: each verified event on `subject` is folded into
    `repository(db)`. A new router per app: a FastStream router belongs to the one broker it
    is included in."""
    router = NatsRouter()

    @router.subscriber(
        subject,
        stream=JStream(name=STREAM_NAME, declare=False),
        durable=consumer_name(kind, database),
        # batch_size=1: a batched fetch waits until its batch fills or times out, which
        # delayed the read model by up to the timeout; one-message fetches return at once.
        # timeout=1: a fetch pending on a NATS server that restarted is lost with it, and the
        # next is sent only once it times out (an idle read model asks once a second)
        pull_sub=PullSub(batch_size=1, timeout=1.0),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.NACK_ON_ERROR,  # a store failure is retried, not dropped
        inbox_prefix=pull_inbox_prefix("devportal"),
    )
    async def on_event(
        msg: NatsMessage,
        db: Annotated[Db, Context("db")],
        verifier: Annotated[EventVerifier, Context("verifier")],
    ) -> None:
        envelope = accept(verifier, msg.raw_message.subject, msg.body, msg.headers)
        if envelope is not None:
            await _fold_one(kind, envelope, fold, repository(db))

    return router


async def _fold_one[R](
    kind: str, envelope: Envelope, fold: Callable[[R, Envelope], Awaitable[None]], repository: R
) -> None:
    """Fold a verified event into read model `kind`; a malformed payload will never parse, so
    it is logged and acknowledged rather than redelivered forever."""
    try:
        await fold(repository, envelope)
    except ValidationError as exc:
        log.error(
            "skipping a malformed %s event for the %s read model: %s",
            envelope.type,
            kind,
            exc.errors(include_input=False),
        )
