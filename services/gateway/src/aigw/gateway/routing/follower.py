"""Follows the event stream into the routing table.

At start it restores the table's snapshot, if there is one (routing.snapshot, with
GATEWAY_STATE_DIR), then connects to NATS as the gateway (retrying until it can, and until the
stream has been provisioned), notes the event stream's last sequence and follows the stream
from the sequence after the last one folded (the first, without a snapshot) with an ordered
reader (aigw.common.ordered: after NATS comes back it resumes from the next sequence at once,
not after missed heartbeats). It reports `caught_up` once it has folded every event up to that
sequence, then keeps following live. Every message goes through the fold (routing.fold:
verified, parsed, applied; a type the table does not route on is passed over unread). Replay
costs O(1) per event whatever the table's size (`make bench-replay`); most of it is the
signature check, then the NATS client's per-message work, both of which a restore from the
snapshot skips.

While NATS cannot be reached, a gateway that restored a snapshot serves from it (`degraded`
says so); one without a snapshot has no table and is not ready. A snapshot of another stream
(one deleted and created again, or that ends before the snapshot's sequence) is dropped once
NATS answers, and the whole stream replayed. The snapshot is written every
`snapshot_interval` seconds when new events were folded, and at stop.

A gateway with no table of its own (no local snapshot, or a refused one) first reads the shared
snapshot the snapshotter keeps in the `AIGW_SNAPSHOTS` object store (routing.shared_snapshot)
once NATS answers, and follows the stream from the sequence after it: one signature checked
instead of one per event. A missing or refused one, or one of another stream, is logged and the
whole stream replayed. Its events are read from the verified body and folded one at a time, as
a replay folds its messages: the body freed, the table's RSS is a full replay's (holding all
130,000 events at once left their memory freed between the table's objects, kept by the
process: 257 MB against 180, `make bench-replay`).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from aigw.common.crypto import SecretBox
from aigw.common.event_trust import EventVerifier
from aigw.common.messaging import STREAM_NAME, unsigned_through
from aigw.common.nats_servers import nats_servers
from aigw.common.ordered import OrderedReader, Reconnects, Start
from aigw.common.retry import until_done
from aigw.gateway.routing.fold import EventFold
from aigw.gateway.routing.shared_snapshot import SharedSnapshots
from aigw.gateway.routing.snapshot import Snapshot, SnapshotFile, SnapshotRefused
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
        snapshots: SnapshotFile | None = None,
        snapshot_interval: float = 30.0,
        shared: SharedSnapshots | None = None,
        keep: bool = False,
    ) -> None:
        self.nats_url = nats_url
        self.nats_options = nats_options
        self.table = table
        self.verifier = verifier
        # what a snapshot holds is kept for the local one, or when asked (the snapshotter)
        self.folding = EventFold(table, verifier, box, keep=keep or snapshots is not None)
        self.snapshots = snapshots
        self.snapshot_interval = snapshot_interval
        self.shared = shared
        self.restored_sequence: int | None = None  # the local snapshot's, when one was restored
        self.shared_sequence: int | None = None  # the shared snapshot's, when one was restored
        self.written_sequence = 0  # the sequence of the last snapshot written or restored
        self._stream_created = ""
        self._target = 0
        # NATS could not be reached after a snapshot was restored: the gateway serves it (and
        # stays ready until caught up: readiness must not flap when NATS comes back)
        self._serving_snapshot = False
        self._error_said = False  # logged once until the next subscription
        self._caught_up = asyncio.Event()
        self._nc: NatsClient | None = None
        self._reader: OrderedReader | None = None
        self.reconnects = Reconnects()  # what else shares the connection may listen too
        self.reconnects.subscribe(self._reconnected)
        self._tasks: list[asyncio.Task[None]] = []

    def connection(self) -> NatsClient | None:
        """The NATS connection, once made (quota sync and usage publishing share it)."""
        return self._nc

    @property
    def last_sequence(self) -> int:
        return self.folding.last_sequence

    @property
    def target_sequence(self) -> int:
        """The stream's last sequence when the follower subscribed: the replay is done at it."""
        return self._target

    @property
    def caught_up(self) -> bool:
        return self._caught_up.is_set()

    @property
    def degraded(self) -> str | None:
        """Why the gateway serves a table that may be behind, or None: it restored a snapshot
        and NATS cannot be reached (so it has not caught up with the stream)."""
        if self.caught_up or self.restored_sequence is None or not self._serving_snapshot:
            return None
        return f"degraded: serving from snapshot at sequence {self.restored_sequence}"

    def start(self) -> None:
        self._restore()
        self._tasks = [asyncio.create_task(self._run(), name="gateway-event-follower")]
        if self.snapshots is not None:
            task = asyncio.create_task(self._keep_snapshots(), name="gateway-table-snapshots")
            self._tasks.append(task)

    async def wait_caught_up(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._caught_up.wait(), timeout)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._reader is not None:
            await self._reader.stop()
        self.write_snapshot()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    # the snapshot

    def _restore(self) -> None:
        if self.snapshots is None:
            return
        try:
            snapshot = self.snapshots.load()
        except SnapshotRefused as exc:
            log.warning(
                "routing table snapshot %s refused: %s; replaying the whole stream",
                self.snapshots.path,
                exc,
            )
            return
        if snapshot is None:
            return
        started = time.perf_counter()
        self.folding.restore(snapshot.sequence, snapshot.events)
        self._stream_created = snapshot.stream_created
        self.restored_sequence = self.written_sequence = snapshot.sequence
        log.info(
            "routing table restored from %s at sequence %d (%d events in %.3f s)",
            self.snapshots.path,
            snapshot.sequence,
            len(snapshot.events),
            time.perf_counter() - started,
        )

    def current_snapshot(self) -> Snapshot | None:
        """The snapshot of the table as it is (what was kept), None before the stream is known."""
        if not self._stream_created:
            return None
        return Snapshot(self.folding.last_sequence, self._stream_created, list(self.folding.kept))

    def _snapshot(self) -> Snapshot | None:
        """What to write now, or None (nothing folded since the last one)."""
        if self.folding.last_sequence <= self.written_sequence:
            return None
        return self.current_snapshot()

    def write_snapshot(self) -> None:
        """Write the snapshot now, if anything was folded since the last one."""
        snapshot = self._snapshot()
        if self.snapshots is not None and snapshot is not None:
            self._write(self.snapshots, snapshot)

    def _write(self, snapshots: SnapshotFile, snapshot: Snapshot) -> None:
        try:
            size = snapshots.write(snapshot)
        except OSError as exc:
            log.warning("routing table snapshot not written to %s: %r", snapshots.path, exc)
            return
        except Exception:  # never a reason to stop keeping snapshots, nor to stop the gateway
            log.exception("routing table snapshot not written to %s", snapshots.path)
            return
        self.written_sequence = snapshot.sequence
        log.debug("routing table snapshot at sequence %d: %d bytes", snapshot.sequence, size)

    async def _keep_snapshots(self) -> None:
        assert self.snapshots is not None
        while True:
            await asyncio.sleep(self.snapshot_interval)
            snapshot = self._snapshot() if self.caught_up else None
            if snapshot is not None:  # encoding and fsync off the event loop
                await asyncio.to_thread(self._write, self.snapshots, snapshot)

    # the stream

    async def _run(self) -> None:
        await until_done(
            self._subscribe, "event stream", log, after_failure=self._disconnect, max_delay=1.0
        )

    async def _disconnect(self) -> None:
        self._unreachable()
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

    async def _connection_error(self, exc: Exception) -> None:
        """nats-py's error callback (instead of its own, which logs a traceback at every
        attempt): at start it retries the first connection for ever, and says so here."""
        if not self._error_said:
            log.warning("NATS connection error (%r); retrying", exc)
            self._error_said = True
        self._unreachable()

    def _unreachable(self) -> None:
        if self.restored_sequence is not None and not self.caught_up:
            self._serving_snapshot = True

    async def _subscribe(self) -> None:
        self._nc = await nats.connect(
            servers=nats_servers(self.nats_url),
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            connect_timeout=2,
            reconnected_cb=self.reconnects.fire,
            error_cb=self._connection_error,
            **self.nats_options,
        )
        js = self._nc.jetstream()
        info = await js.stream_info(STREAM_NAME)
        if self.shared is not None and self.folding.last_sequence == 0:
            await self._restore_shared(self._nc, str(info.created), int(info.state.last_seq))
        self._check_stream(str(info.created), int(info.state.last_seq))
        self.folding.unsigned_through = unsigned_through(info.config.metadata)
        self._target = info.state.last_seq if info.state.messages else 0
        if self._target <= self.folding.last_sequence:
            self._caught_up.set()
        start = self.folding.last_sequence + 1
        self._reader = OrderedReader(
            self._nc,
            STREAM_NAME,
            "aigw.>",
            self._on_message,
            start=Start(start),
            name="gateway routing follower",
        )
        await self._reader.start()
        self._error_said = False
        log.info(
            "following %s from sequence %d (catching up to sequence %d)",
            STREAM_NAME,
            start,
            self._target,
        )

    async def _restore_shared(self, nc: NatsClient, created: str, last_sequence: int) -> None:
        """Restore the shared snapshot if there is one this gateway may use; else say why."""
        assert self.shared is not None
        started = time.perf_counter()
        try:
            snapshot = await self.shared.load(nc)
        except SnapshotRefused as exc:
            log.warning("shared routing table snapshot refused: %s; replaying the stream", exc)
            return
        except Exception as exc:  # noqa: BLE001 - never a reason not to replay
            log.warning("shared routing table snapshot not read (%r); replaying the stream", exc)
            return
        if snapshot is None:
            log.info("no shared routing table snapshot yet: replaying the whole stream")
            return
        if snapshot.stream_created != created or snapshot.sequence > last_sequence:
            log.warning(
                "the shared routing table snapshot (sequence %d, stream created %s) is not of "
                "the stream (created %s, last sequence %d): replaying the whole stream",
                snapshot.sequence,
                snapshot.stream_created,
                created,
                last_sequence,
            )
            return
        read = time.perf_counter()
        self.folding.restore(snapshot.sequence, snapshot.events)
        self._stream_created = created
        self.shared_sequence = snapshot.sequence
        log.info(
            "routing table restored from the shared snapshot at sequence %d (%d events: read "
            "and verified in %.3f s, folded in %.3f s)",
            snapshot.sequence,
            len(snapshot.events),
            read - started,
            time.perf_counter() - read,
        )

    def _check_stream(self, created: str, last_sequence: int) -> None:
        """Drop what was folded from another stream than this one (a snapshot of a stream
        since deleted and created again): the whole stream is replayed instead."""
        folded = self.folding.last_sequence
        if folded and (created != self._stream_created or last_sequence < folded):
            log.warning(
                "the routing table (sequence %d, stream created %s) is not of the stream "
                "(created %s, last sequence %d): replaying the whole stream",
                folded,
                self._stream_created,
                created,
                last_sequence,
            )
            self.folding.reset()
            self._caught_up.clear()
            self.restored_sequence = None
            self._serving_snapshot = False
            self.written_sequence = 0
        self._stream_created = created

    async def _on_message(self, msg: Msg) -> None:
        try:
            sequence = msg.metadata.sequence.stream
        except (nats.errors.Error, AttributeError):
            sequence = self.folding.last_sequence + 1
        self.fold(sequence, msg.subject, msg.data, msg.headers)

    def fold(
        self, sequence: int, subject: str, data: bytes, headers: Mapping[str, str] | None
    ) -> None:
        """Fold one message of the stream (replay and live alike; routing.fold)."""
        self.folding.message(sequence, subject, data, headers)
        if not self._caught_up.is_set() and sequence >= self._target:
            log.info("routing table caught up at sequence %d", sequence)
            self._caught_up.set()
