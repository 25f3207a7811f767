"""devportal's read models of other services' entities (the catalogue, plans, vendor
definitions): each is one durable pull consumer of the event stream that verifies every event
and folds it into its own collection.

A pull consumer can be shared by replicas and hands out messages in stream order; each read
model's store keeps only newer events, so replicas' writes stay consistent. The consumer is
named after the database it fills: a new database gets a new consumer that replays the whole
stream, a restart resumes where it was.
"""

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from faststream import AckPolicy, Context
from faststream.nats import DeliverPolicy, JStream, NatsMessage, NatsRouter, PullSub
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.event_trust import EventVerifier, accept
from aigw.common.events import Envelope
from aigw.common.identity import pull_inbox_prefix
from aigw.common.messaging import STREAM_NAME

Db = AsyncDatabase[dict[str, Any]]
Fold = Callable[[Db, Envelope], Awaitable[None]]


def consumer_name(kind: str, database: str) -> str:
    """Durable names may not contain '.', '*', '>' or whitespace."""
    return f"devportal-{kind}-" + re.sub(r"[^A-Za-z0-9_-]", "_", database)


def projection_router(kind: str, subject: str, database: str, fold: Fold) -> NatsRouter:
    """A new router per app: a FastStream router belongs to the one broker it is included in."""
    router = NatsRouter()

    @router.subscriber(
        subject,
        stream=JStream(name=STREAM_NAME, declare=False),
        durable=consumer_name(kind, database),
        # batch_size=1: a batched fetch waits until its batch fills or times out, which
        # delayed the read model by up to the timeout; one-message fetches return at once
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.NACK_ON_ERROR,  # a store failure is retried, not dropped
        inbox_prefix=pull_inbox_prefix("devportal"),
    )
    async def on_event(
        msg: NatsMessage,
        db: Annotated[Db, Context("db")],
        verifier: Annotated[EventVerifier, Context("verifier")],
    ) -> None:
        if envelope := accept(verifier, msg.raw_message.subject, msg.body, msg.headers):
            await fold(db, envelope)

    return router
