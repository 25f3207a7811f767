"""Follows the event stream into the routing table.

At start it connects to NATS as the gateway (retrying until it can, and until the stream has
been provisioned), notes the event stream's last sequence and replays the whole stream from the
first message with an ordered reader (aigw.common.ordered: after NATS comes back it resumes
from the next sequence at once, not after missed heartbeats). It reports `caught_up` once it
has applied every event up to that sequence, then keeps following live. Every event of a
type the table routes on (`builder.ROUTED_TYPES`; the others are passed over unread) is
verified first (aigw.common.event_trust: signer, signature, subject, source): an untrusted one
is dropped and counted. An event it cannot parse is logged and skipped: one bad event must not
stop routing. Replay costs O(1) per event whatever the table's size (`make bench-replay`); most
of it is the signature check, then the NATS client's per-message work.
"""

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pydantic import ValidationError

from aigw.common.crypto import SecretBox
from aigw.common.event_trust import SIGNATURE_HEADER, EventVerifier, RejectedEvent
from aigw.common.events import Envelope
from aigw.common.messaging import STREAM_NAME, unsigned_through
from aigw.common.nats_servers import nats_servers
from aigw.common.ordered import OrderedReader, Reconnects
from aigw.common.retry import until_done
from aigw.gateway.routing import builder
from aigw.gateway.routing.decode import PayloadDecoder
from aigw.gateway.routing.table import RoutingTable

log = logging.getLogger(__name__)


class EventFollower:
    def __init__(
        self,
        nats_url: str,
        nats_options: dict[str, Any],
        verifier: EventVerifier,
        table: RoutingTable,
        box: SecretBox | None,
    ) -> None:
        self.nats_url = nats_url
        self.nats_options = nats_options
        self.verifier = verifier
        self.table = table
        self.box = box
        self.last_sequence = 0
        self._target = 0
        self._unsigned_through = 0
        self._caught_up = asyncio.Event()
        self._decoder = PayloadDecoder()
        self._nc: NatsClient | None = None
        self._reader: OrderedReader | None = None
        self.reconnects = Reconnects()  # what else shares the connection may listen too
        self.reconnects.subscribe(self._reconnected)
        self._task: asyncio.Task[None] | None = None

    def connection(self) -> NatsClient | None:
        """The NATS connection, once made (quota sync and usage publishing share it)."""
        return self._nc

    @property
    def target_sequence(self) -> int:
        """The stream's last sequence when the follower subscribed: the replay is done at it."""
        return self._target

    @property
    def caught_up(self) -> bool:
        return self._caught_up.is_set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-event-follower")

    async def wait_caught_up(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._caught_up.wait(), timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._reader is not None:
            await self._reader.stop()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def _run(self) -> None:
        await until_done(self._subscribe, "event stream", log, after_failure=self._disconnect)

    async def _disconnect(self) -> None:
        if self._reader is not None:
            await self._reader.stop()
            self._reader = None
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None

    async def _reconnected(self) -> None:
        if self._reader is not None:
            await self._reader.reconnected()

    async def _subscribe(self) -> None:
        self._nc = await nats.connect(
            servers=nats_servers(self.nats_url),
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            connect_timeout=2,
            reconnected_cb=self.reconnects.fire,
            **self.nats_options,
        )
        js = self._nc.jetstream()
        info = await js.stream_info(STREAM_NAME)
        self._target = info.state.last_seq if info.state.messages else 0
        self._unsigned_through = unsigned_through(info.config.metadata)
        if self._target == 0:
            self._caught_up.set()
        self._reader = OrderedReader(
            self._nc, STREAM_NAME, "aigw.>", self._on_message, name="gateway routing follower"
        )
        await self._reader.start()
        log.info(
            "following %s from the start (catching up to sequence %d)", STREAM_NAME, self._target
        )

    async def _on_message(self, msg: Msg) -> None:
        try:
            sequence = msg.metadata.sequence.stream
        except (nats.errors.Error, AttributeError):
            sequence = self.last_sequence + 1
        self.fold(sequence, msg.subject, msg.data, msg.headers)

    def fold(
        self, sequence: int, subject: str, data: bytes, headers: Mapping[str, str] | None
    ) -> None:
        """Verify, parse and apply one message of the stream (replay and live alike). A
        subject the table does not route on is passed over unread (its type is its subject:
        whatever it holds, it would be refused or ignored)."""
        if subject not in builder.ROUTED_TYPES:
            self._advance(sequence)
            return
        try:
            envelope = self._open(sequence, subject, data, headers)
            payload = self._decoder.payload(envelope)
            if payload is None:
                log.debug("skipping event of unknown type %s", envelope.type)
            else:
                builder.apply(self.table, payload, self.box)
        except RejectedEvent as exc:
            log.warning("dropping untrusted event #%d: %s", sequence, exc)
        except (ValidationError, ValueError) as exc:
            log.warning("skipping unparseable event #%d on %s: %s", sequence, subject, exc)
        except Exception:
            log.exception("skipping event #%d on %s: cannot apply it", sequence, subject)
        self._advance(sequence)

    def _open(
        self, sequence: int, subject: str, data: bytes, headers: Mapping[str, str] | None
    ) -> Envelope:
        """The verified envelope; events from before signing (see messaging.UNSIGNED_THROUGH)
        are folded as they are."""
        if sequence <= self._unsigned_through and SIGNATURE_HEADER not in (headers or {}):
            return Envelope.model_validate_json(data)
        return self.verifier.open(subject, data, headers)

    def _advance(self, sequence: int) -> None:
        self.last_sequence = sequence
        if not self._caught_up.is_set() and sequence >= self._target:
            log.info("routing table caught up at sequence %d", sequence)
            self._caught_up.set()
