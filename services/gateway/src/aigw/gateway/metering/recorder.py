"""Usage records, queued in memory on the request path and published in batches
(`aigw.usage.recorded`) by a background task: every `interval` seconds, or sooner once
`batch_size` records wait.

At each tick what is queued is sealed into batches: each record gets its `record_id` (the
store's key) and each batch a `batch_id`, the event id and the JetStream message id
(`Nats-Msg-Id`). A sealed batch never changes: it is sent again as it is until JetStream
acknowledges it, so a retry is deduplicated by JetStream (within its duplicate window) and, in
any case, by the consumers (who store each record under its record id). With a spool
(metering.spool, GATEWAY_STATE_DIR) the sealed batches are written and fsynced before they are
first sent (off the event loop), sent at the next start if this process stops or dies before
JetStream acknowledged them, and forgotten once it has. A separate task sends, so a slow
JetStream never holds the sealing back: a kill -9 loses at most the records queued since the
last tick (the calls of one `interval`, or of `batch_size` calls when they come faster); a
clean stop seals and spools whatever is queued.

While NATS is away the batches wait, up to `max_records` records in all (queued and sealed);
past it the oldest are dropped and counted (`aigw_gateway_usage_records_dropped_total`).
"""

import asyncio
import collections
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from nats.aio.client import Client as NatsClient
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aigw.common.event_trust import EventSigner
from aigw.common.events import KeyType, UsageRecord, UsageRecorded, new_event
from aigw.common.messaging import signed_message, stream_for
from aigw.common.response_cache import CacheOutcome
from aigw.gateway.metering.spool import Batch, UsageSpool

log = logging.getLogger(__name__)

MAX_RECORDS = 100_000


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
        *,
        max_records: int = MAX_RECORDS,
        spool: UsageSpool | None = None,
    ) -> None:
        self.gateway = gateway
        self._signer = signer
        self.interval = interval
        self.batch_size = batch_size
        self.max_records = max_records
        self.spool = spool
        self._connection = connection
        self._queue: collections.deque[CallRecord] = collections.deque(maxlen=max_records)
        self._batches: collections.deque[Batch] = collections.deque()  # sealed, not acked
        self._sealed_records = 0
        self.dropped = 0  # records dropped because `max_records` were waiting
        self.published = 0  # batches JetStream acknowledged
        self._full = asyncio.Event()
        self._sealed = asyncio.Event()  # new batches for the sender
        self._tasks: list[asyncio.Task[None]] = []
        self._io = asyncio.Lock()  # the sealed batches and the spool: one change at a time
        self._sending = asyncio.Lock()
        self._waiting = False  # the last attempt to send failed

    @property
    def pending(self) -> int:
        """Records not acknowledged by JetStream yet (queued or sealed)."""
        return len(self._queue) + self._sealed_records

    @property
    def batches(self) -> list[Batch]:
        """The sealed batches waiting for JetStream's acknowledgement, oldest first."""
        return list(self._batches)

    def add(self, record: CallRecord) -> None:
        if len(self._queue) == self.max_records:
            self.dropped += 1  # the deque drops the oldest: memory stays bounded
        self._queue.append(record)
        if len(self._queue) >= self.batch_size:
            self._full.set()

    def start(self) -> None:
        if self.spool is not None:
            for batch in self.spool.open():
                self._batches.append(batch)
                self._sealed_records += len(batch.records)
            self._bound()
        self._tasks = [
            asyncio.create_task(self._run(), name="gateway-usage-recorder"),
            asyncio.create_task(self._sender(), name="gateway-usage-sender"),
        ]

    async def stop(self) -> None:
        """Stop, seal and spool what is queued, and send what waits if NATS is there."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        with contextlib.suppress(Exception):
            await self.flush()
        if self.spool is not None:
            if sealed := self._seal():  # what `flush` did not get to
                self.spool.append(sealed)
            self.spool.close()

    async def flush(self) -> None:
        """Seal what is queued (and spool it), then send every sealed batch."""
        await self._seal_and_spool()
        await self._send()

    async def _run(self) -> None:
        """Every `interval`, or once `batch_size` records wait: seal and spool them."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.interval)
            self._full.clear()
            try:
                await self._seal_and_spool()
            except OSError as exc:  # a full or failing disk: the batches stay in memory
                log.warning("usage spool not written: %r", exc)
            self._sealed.set()

    async def _sender(self) -> None:
        while True:
            await self._sealed.wait()
            self._sealed.clear()
            try:
                await self._send()
            except Exception as exc:  # noqa: BLE001 - NATS down or slow: batches wait
                say = log.debug if self._waiting else log.warning  # once an outage
                say("usage records not published yet (%d waiting): %r", self.pending, exc)
                self._waiting = True
            else:
                if self._waiting:
                    log.info("usage records published again")
                self._waiting = False

    async def _seal_and_spool(self) -> None:
        async with self._io:
            sealed = self._seal()
            if self.spool is not None and sealed:
                await asyncio.to_thread(self.spool.append, sealed)  # fsync off the loop
            self._bound()
            if self.spool is not None:  # a rewrite fsyncs: off the loop too
                await asyncio.to_thread(self.spool.tidy, list(self._batches))

    def _seal(self) -> list[Batch]:
        """The queued records as batches: each record's id and the batch's, for good."""
        sealed = []
        while self._queue:
            size = min(self.batch_size, len(self._queue))
            records = tuple(self._queue.popleft().to_record() for _ in range(size))
            sealed.append(Batch(uuid.uuid4().hex, records))
        self._batches.extend(sealed)
        self._sealed_records += sum(len(batch.records) for batch in sealed)
        return sealed

    async def _send(self) -> None:
        async with self._sending:
            while self._batches:
                nc = self._connection()
                if nc is None or not nc.is_connected:
                    raise ConnectionError("NATS is not connected")
                batch = self._batches[0]
                await self._publish(nc, batch)
                async with self._io:
                    if self._batches and self._batches[0] is batch:  # not dropped meanwhile
                        self._finished(self._batches.popleft(), "ack")
                self.published += 1
            if self.spool is not None:
                async with self._io:
                    await asyncio.to_thread(self.spool.tidy, list(self._batches))

    def _finished(self, batch: Batch, how: str) -> None:
        self._sealed_records -= len(batch.records)
        if self.spool is not None:
            self.spool.finished(batch, how)

    def _bound(self) -> None:
        """Drop the oldest batches while more than `max_records` records wait: counted."""
        while self.pending > self.max_records and self._batches:
            batch = self._batches.popleft()
            self._finished(batch, "drop")
            if not self.dropped:
                log.warning("usage records dropped: more than %d waiting", self.max_records)
            self.dropped += len(batch.records)

    async def _publish(self, nc: NatsClient, batch: Batch) -> None:
        payload = UsageRecorded(
            batch_id=batch.batch_id, gateway=self.gateway, records=list(batch.records)
        )
        event = new_event(payload, source="gateway", actor=self.gateway)
        event = event.model_copy(update={"id": batch.batch_id})
        body, headers = signed_message(event, self._signer)
        await nc.jetstream().publish(
            event.type, body, stream=stream_for(event.type), headers=headers, timeout=5.0
        )

    def collector(self) -> Collector:
        return _RecorderCollector(self)


class _RecorderCollector(Collector):
    def __init__(self, recorder: UsageRecorder) -> None:
        self._recorder = recorder

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "aigw_gateway_usage_records_pending",
            "Usage records not acknowledged by JetStream yet (queued, sealed or spooled)",
            value=self._recorder.pending,
        )
        yield CounterMetricFamily(
            "aigw_gateway_usage_records_dropped",
            "Usage records dropped because GATEWAY_USAGE_SPOOL_MAX_RECORDS were waiting",
            value=self._recorder.dropped,
        )
