"""The bucket every gateway shares: `AIGW_CACHE` in NATS JetStream key-value (provisioned with
the streams, aigw.common.messaging; only the gateway identity may write or watch it).

A gateway writes an answer in the background once its call is over (never on the hot path),
signed as its usage messages are (aigw.common.event_trust: `Aigw-Signer` and
`Aigw-Signature` over the key's subject and the value, so an entry cannot be moved to another
key), and puts it in its own index at once. Every gateway watches the bucket (an ordered
reader from the latest value of each key, then live, resuming at once after a NATS reconnect:
aigw.common.ordered) and indexes each entry it can verify:
an unsigned, wrongly signed or malformed entry is ignored and counted by reason. A write that
finds NATS away is dropped (the next miss stores the answer again).
"""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from aigw.common.event_trust import EventSigner, EventVerifier, RejectedEvent
from aigw.common.identity import CACHE_BUCKET
from aigw.common.messaging import CACHE_STREAM_NAME
from aigw.common.ordered import OrderedReader, Reconnects, Start
from aigw.common.retry import until_done
from aigw.gateway.cache.entry import CachedAnswer, decode, encode
from aigw.gateway.cache.index import CacheIndex

log = logging.getLogger(__name__)

PREFIX = f"$KV.{CACHE_BUCKET}."
MAX_WRITES_IN_FLIGHT = 256
_REMOVALS = ("DEL", "PURGE")


def subject_of(key: str) -> str:
    return PREFIX + key


class SharedCache:
    def __init__(
        self,
        connection: Callable[[], NatsClient | None],
        signer: EventSigner,
        verifier: EventVerifier,
        index: CacheIndex,
        poll: float = 0.05,
        reconnects: Reconnects | None = None,
    ) -> None:
        self._connection, self._signer, self._verifier = connection, signer, verifier
        self.index = index
        self.rejected: Counter[str] = Counter()  # entries ignored, by reason
        self.dropped_writes = 0
        self._poll = poll
        self._writes: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._reconnects = reconnects
        self._reader: OrderedReader | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.watching = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-cache-watch")

    async def stop(self) -> None:
        if self._writes:
            await asyncio.wait(self._writes, timeout=2)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._reader is not None:
            await self._reader.stop()

    def store(self, answer: CachedAnswer) -> None:
        """Index `answer` and write it to the bucket in the background."""
        self.index.add(answer)
        if len(self._writes) >= MAX_WRITES_IN_FLIGHT:
            self.dropped_writes += 1
            return
        task = asyncio.get_running_loop().create_task(self._write(answer))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, answer: CachedAnswer) -> None:
        nc = self._connection()
        if nc is None or not nc.is_connected:
            self.dropped_writes += 1
            return
        subject, body = subject_of(answer.key), encode(answer)
        headers = self._signer.headers(subject, body)
        try:
            await nc.jetstream().publish(
                subject, body, stream=CACHE_STREAM_NAME, headers=headers, timeout=2.0
            )
        except Exception as exc:  # noqa: BLE001 - a cache write may fail; the call is answered
            self.dropped_writes += 1
            log.debug("cache write failed: %r", exc)

    async def _run(self) -> None:
        await until_done(self._watch, "the response cache bucket", log)

    async def _watch(self) -> None:
        while (nc := self._connection()) is None or not nc.is_connected:
            await asyncio.sleep(self._poll)
        js = nc.jetstream()
        await js.stream_info(CACHE_STREAM_NAME)  # provisioned (else retried)
        reader = OrderedReader(
            nc,
            CACHE_STREAM_NAME,
            PREFIX + ">",
            self._on_message,
            start=Start(last_per_subject=True),
            name="response cache watch",
        )
        await reader.start()
        self._reader = reader
        if self._reconnects is not None:
            self._unsubscribe = self._reconnects.subscribe(reader.reconnected)
        self.watching.set()

    async def _on_message(self, msg: Msg) -> None:
        self.learn(msg.subject, msg.data, msg.headers)

    def learn(self, subject: str, data: bytes, headers: dict[str, str] | None) -> None:
        """One value of the bucket: indexed if it verifies, forgotten if it was removed."""
        key = subject.removeprefix(PREFIX)
        operation = (headers or {}).get("KV-Operation")
        if operation in _REMOVALS or (headers or {}).get("Nats-Marker-Reason"):
            self.index.remove(key)
            return
        try:
            self._verifier.authenticate(subject, data, headers)
            answer = decode(key, data)
        except RejectedEvent as exc:
            self._ignore(exc.reason, key)
            return
        except ValueError:
            self._ignore("malformed", key)
            return
        self.index.add(answer)

    def _ignore(self, reason: str, key: str) -> None:
        self.rejected[reason] += 1
        self.index.remove(key)  # a forged value replaced whatever was under this key
        log.warning("ignoring a cache entry (%s): %s", reason, key)
