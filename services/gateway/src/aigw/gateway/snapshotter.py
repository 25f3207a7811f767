"""`python -m aigw.gateway.snapshotter`: keeps the routing table's shared snapshot.

One per deployment (more are harmless: the last write wins, every one is whole). It folds the
events stream exactly as a gateway does (routing.follower: verified, then routing.builder),
starting from its own last snapshot when there is one, and once caught up, then every
`SNAPSHOTTER_INTERVAL` seconds when events arrived, writes the table's snapshot, signed with
its own NATS identity (`snapshotter`), to the `AIGW_SNAPSHOTS` object store
(routing.shared_snapshot). A starting gateway reads it instead of checking every event's
signature, and replays only what came after.

It is not a gateway and holds no master key: provider keys stay sealed as the events carry
them, it serves no AI call, and a compromised gateway cannot write what every other gateway
loads. Its port serves `/health/live`, `/health/ready` (caught up with the stream) and
`/metrics` (the last snapshot's sequence, size and age, failed writes).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import ClassVar

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aigw.common.http_limits import WireLimits
from aigw.common.identity import SNAPSHOTTER
from aigw.common.serve import serve
from aigw.common.service_app import create_service_app
from aigw.common.settings import BusSettings, setting
from aigw.common.startup import load_settings
from aigw.gateway.routing.follower import EventFollower
from aigw.gateway.routing.shared_snapshot import SharedSnapshots
from aigw.gateway.routing.table import RoutingTable

log = logging.getLogger("aigw.gateway.snapshotter")

LIMITS = WireLimits(max_head_bytes=16_384, max_headers=50, head_timeout=10.0, max_connections=64)


class SnapshotterSettings(BusSettings):
    IDENTITY: ClassVar[str] = SNAPSHOTTER

    port: int = setting(8004, "SNAPSHOTTER_PORT")
    interval: float = setting(
        300.0,
        "SNAPSHOTTER_INTERVAL",
        gt=0,
        description="seconds between shared routing table snapshots (only when events "
        "arrived; the first once caught up with the stream)",
    )


class Snapshotter:
    def __init__(self, settings: SnapshotterSettings) -> None:
        verifier = settings.event_verifier()
        self.shared = SharedSnapshots(verifier, settings.event_signer())
        self.follower = EventFollower(
            settings.nats_url,
            settings.nats_options(),
            verifier,
            RoutingTable(),
            None,  # no master key: provider keys stay sealed, as the snapshot keeps them
            shared=self.shared,
            keep=True,
        )
        self.interval = settings.interval
        self.written_sequence = 0
        self.written_bytes = 0
        self.written_at: float | None = None
        self.failed_writes = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.follower.start()
        self._task = asyncio.create_task(self._run(), name="snapshotter")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.follower.stop()

    async def _run(self) -> None:
        await self.follower.wait_caught_up()
        # the snapshot it started from is the one in the bucket: nothing to write for it
        self.written_sequence = self.follower.shared_sequence or 0
        while True:
            await self.write_if_new()
            await asyncio.sleep(self.interval)

    async def write_if_new(self) -> bool:
        """Write the snapshot if events were folded since the last one; whether it did."""
        snapshot = self.follower.current_snapshot()
        nc = self.follower.connection()
        if snapshot is None or snapshot.sequence <= self.written_sequence or nc is None:
            return False
        started = time.perf_counter()
        try:
            size = await self.shared.write(nc, snapshot)
        except Exception as exc:  # noqa: BLE001 - NATS away or the bucket full: next time
            self.failed_writes += 1
            log.warning("shared routing table snapshot not written: %r", exc)
            return False
        self.written_sequence, self.written_bytes = snapshot.sequence, size
        self.written_at = time.time()
        log.info(
            "shared routing table snapshot written at sequence %d: %d events, %d bytes, %.3f s",
            snapshot.sequence,
            len(snapshot.events),
            size,
            time.perf_counter() - started,
        )
        return True

    def collector(self) -> Collector:
        return _SnapshotterCollector(self)


class _SnapshotterCollector(Collector):
    def __init__(self, snapshotter: Snapshotter) -> None:
        self._s = snapshotter

    def collect(self) -> Iterable[Metric]:
        s = self._s
        yield GaugeMetricFamily(
            "aigw_snapshotter_stream_sequence",
            "The last events-stream sequence folded",
            value=s.follower.last_sequence,
        )
        yield GaugeMetricFamily(
            "aigw_snapshotter_snapshot_sequence",
            "The stream sequence of the last shared snapshot written",
            value=s.written_sequence,
        )
        yield GaugeMetricFamily(
            "aigw_snapshotter_snapshot_bytes",
            "The size of the last shared snapshot written",
            value=s.written_bytes,
        )
        yield GaugeMetricFamily(
            "aigw_snapshotter_snapshot_written_timestamp_seconds",
            "When the last shared snapshot was written (0: none yet)",
            value=s.written_at or 0,
        )
        failed = CounterMetricFamily(
            "aigw_snapshotter_failed_writes", "Shared snapshot writes that failed"
        )
        failed.add_metric([], s.failed_writes)
        yield failed


def create_app(settings: SnapshotterSettings) -> FastAPI:
    snapshotter = Snapshotter(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await snapshotter.start()
        try:
            yield
        finally:
            await snapshotter.stop()

    async def ready(app: FastAPI) -> bool | str:
        return snapshotter.follower.caught_up

    app = create_service_app(
        title="aigw snapshotter",
        description=__doc__ or "",
        lifespan=lifespan,
        routers=[],
        ready=ready,
        max_body_bytes=1024,
    )
    app.state.snapshotter = snapshotter
    app.state.metrics_registry.register(snapshotter.collector())
    return app


def main() -> None:
    settings = load_settings(SnapshotterSettings)
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        limits=LIMITS,
    )


if __name__ == "__main__":
    main()
