"""Usage records, queued in memory on the request path and published in batches
(`aigw.usage.recorded`) by a background task: every `interval` seconds, or sooner once
`batch_size` records wait. The batch id is the event id and the JetStream message id
(`Nats-Msg-Id`). What is queued at shutdown is flushed; if NATS is down the records wait (up to `MAX_QUEUED`, then the oldest are dropped).
"""

import asyncio
import collections
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from nats.aio.client import Client as NatsClient

from aigw.common.event_trust import EventSigner
from aigw.common.events import KeyType, UsageRecord, UsageRecorded, new_event
from aigw.common.messaging import signed_message, stream_for
from aigw.common.response_cache import CacheOutcome

log = logging.getLogger(__name__)

MAX_QUEUED = 100_000


@dataclass(slots=True)
class CallRecord:
    """What the hot path queues: plain values, turned into a UsageRecord off the hot path."""

    at: float  # POSIX time
    request_id: str  # the caller's x-request-id
    api_id: str
    application_id: str
    subscriber: str
    key_type: KeyType
    requested_model: str | None
    served_model: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    status: int
    stream: bool
    gateway_ms: float
    provider_ms: float
    ttft_ms: float | None
    target: str | None = None
    remaining_tokens: int | None = None
    estimated: bool = False
    guardrail: str | None = None
    guardrail_direction: Literal["REQUEST", "RESPONSE"] | None = None
    cache: CacheOutcome | None = None
    tokens_saved: int = 0

    def to_record(self) -> UsageRecord:
        return UsageRecord(
            record_id=uuid.uuid4().hex,  # the store's key: never the caller's request id
            request_id=self.request_id,
            time=datetime.fromtimestamp(self.at, UTC),
            api_id=self.api_id,
            application_id=self.application_id,
            subscriber=self.subscriber,
            key_type=self.key_type,
            requested_model=self.requested_model,
            served_model=self.served_model,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.total_tokens,
            status=self.status,
            stream=self.stream,
            gateway_latency_ms=round(self.gateway_ms, 3),
            provider_latency_ms=round(self.provider_ms, 3),
            time_to_first_token_ms=None if self.ttft_ms is None else round(self.ttft_ms, 3),
            target=self.target,
            remaining_tokens=self.remaining_tokens,
            estimated=self.estimated,
            guardrail=self.guardrail,
            guardrail_direction=self.guardrail_direction,
            cache=self.cache,
            cached=self.cache == "hit",
            tokens_saved=self.tokens_saved,
        )


class UsageRecorder:
    def __init__(
        self,
        connection: Callable[[], NatsClient | None],
        signer: EventSigner,
        gateway: str,
        interval: float = 0.5,
        batch_size: int = 200,
    ) -> None:
        self.gateway = gateway
        self._signer = signer
        self.interval = interval
        self.batch_size = batch_size
        self._connection = connection
        self._queue: collections.deque[CallRecord] = collections.deque(maxlen=MAX_QUEUED)
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, record: CallRecord) -> None:
        self._queue.append(record)
        if len(self._queue) >= self.batch_size:
            self._full.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-usage-recorder")

    async def stop(self) -> None:
        """Stop the loop and flush what is queued (best effort)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.interval)
            self._full.clear()
            try:
                await self.flush()
            except Exception as exc:  # noqa: BLE001 - NATS down or slow: records wait
                log.warning(
                    "usage records not published yet (%d queued): %r", len(self._queue), exc
                )

    async def flush(self) -> None:
        while self._queue:
            nc = self._connection()
            if nc is None or not nc.is_connected:
                raise ConnectionError("NATS is not connected")
            batch = [self._queue[i] for i in range(min(self.batch_size, len(self._queue)))]
            await self._publish(nc, batch)
            for _ in batch:
                self._queue.popleft()

    async def _publish(self, nc: NatsClient, batch: list[CallRecord]) -> None:
        batch_id = uuid.uuid4().hex
        payload = UsageRecorded(
            batch_id=batch_id, gateway=self.gateway, records=[r.to_record() for r in batch]
        )
        event = new_event(payload, source="gateway", actor=self.gateway)
        event = event.model_copy(update={"id": batch_id})
        body, headers = signed_message(event, self._signer)
        await nc.jetstream().publish(
            event.type, body, stream=stream_for(event.type), headers=headers, timeout=5.0
        )
