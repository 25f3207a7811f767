"""Stores the gateways' usage batches (aigw.usage.recorded) for the usage reports.

A durable pull consumer, named after the database it fills (a new database replays the whole
stream, a restart resumes). batch_size=1: a batched fetch waits until its batch fills or times
out; each message is already a batch of records.
"""

import logging
import re
from typing import Annotated

from faststream import AckPolicy, Context
from faststream.nats import DeliverPolicy, JStream, NatsMessage, NatsRouter, PullSub
from pydantic import ValidationError

from aigw.common.event_trust import EventVerifier, accept
from aigw.common.events import Envelope, UsageRecorded
from aigw.common.identity import pull_inbox_prefix
from aigw.common.messaging import USAGE_STREAM_NAME
from aigw.common.usage import store

log = logging.getLogger(__name__)


async def on_usage(db: store.Db, envelope: Envelope) -> None:
    try:
        batch = UsageRecorded.from_envelope(envelope)
    except ValidationError as exc:
        # a malformed batch will never parse: acknowledge it rather than redeliver forever
        log.error("skipping a malformed usage batch: %s", exc.errors(include_input=False))
        return
    await store.store_batch(db, batch.batch_id, list(batch.records))


def consumer_name(prefix: str, database: str) -> str:
    """Durable names may not contain '.', '*', '>' or whitespace."""
    return f"{prefix}-usage-" + re.sub(r"[^A-Za-z0-9_-]", "_", database)


def usage_router(service: str, database: str) -> NatsRouter:
    """A new router per app: a FastStream router belongs to the one broker it is included in."""
    router = NatsRouter()

    @router.subscriber(
        UsageRecorded.TYPE,
        stream=JStream(name=USAGE_STREAM_NAME, declare=False),
        durable=consumer_name(service, database),
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.NACK_ON_ERROR,  # a store failure is retried, not dropped
        inbox_prefix=pull_inbox_prefix(service),
    )
    async def on_usage_batch(
        msg: NatsMessage,
        db: Annotated[store.Db, Context("db")],
        verifier: Annotated[EventVerifier, Context("verifier")],
    ) -> None:
        if envelope := accept(verifier, msg.raw_message.subject, msg.body, msg.headers):
            await on_usage(db, envelope)

    return router
