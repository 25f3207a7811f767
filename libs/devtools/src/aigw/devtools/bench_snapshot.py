"""The gateway's restart with and without its routing table snapshot (GATEWAY_STATE_DIR).

On a nats-server of its own (authorization and streams as `make run` has them), the bench
publishes a platform's stream (aigw.devtools.synthetic_stream: `--apis` deployed APIs,
applications, subscriptions and `--keys` API keys, as the services sign them), then starts the
gateway's event follower (what a gateway's start waits for) and reports, as the median of
`--runs`:

- full replay: no snapshot, from the stream's first event to caught up;
- from the snapshot: restore, then follow on from the snapshot's sequence (nothing after it);
- from the snapshot + a tail of `--tail` newer events;
- NATS down: restore, and serving (degraded) from the snapshot;

and the snapshot's size and write time.

    .venv/bin/python -m aigw.devtools.bench_snapshot --apis 1500 --keys 15000
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from aigw.common.crypto import SecretBox, generate_master_key, sha256_hex
from aigw.common.events import EventPayload, KeyIssued
from aigw.devtools import nats_auth
from aigw.devtools.processes import ManagedProcess, free_port, nats_server
from aigw.devtools.synthetic_stream import Publisher, Shape, application_id, write
from aigw.gateway.app import table_snapshots
from aigw.gateway.routing.follower import EventFollower
from aigw.gateway.routing.table import RoutingTable
from aigw.gateway.settings import Settings


def newer_keys(shape: Shape, count: int) -> list[EventPayload]:
    """`count` keys issued after the stream's (the tail a restarted gateway folds)."""
    return [
        KeyIssued(
            key_id=f"tail-{i}",
            key_hash=sha256_hex(f"tail-key-{i}"),
            application_id=application_id(i % shape.applications),
            key_type="PRODUCTION",
        )
        for i in range(count)
    ]


async def publish(url: str, credentials: Path, payloads: Sequence[EventPayload]) -> None:
    async with Publisher(url, credentials) as publisher:
        for payload in payloads:
            await publisher.send(payload)
        await publisher.flush()


def follower(settings: Settings) -> EventFollower:
    verifier = settings.event_verifier()
    snapshots = table_snapshots(settings, verifier)
    return EventFollower(
        settings.nats_url,
        settings.nats_options(),
        verifier,
        RoutingTable(),
        settings.secret_box(),
        snapshots,
        snapshot_interval=3600,
    )


async def start_time(settings: Settings, ready: Callable[[EventFollower], bool]) -> float:
    """Seconds from the follower's start until `ready`; it stops (writing its snapshot)."""
    started = time.perf_counter()
    running = follower(settings)
    running.start()
    while not ready(running):
        await asyncio.sleep(0.002)
    took = time.perf_counter() - started
    await running.stop()
    return took


def caught_up(running: EventFollower) -> bool:
    return running.caught_up


def degraded(running: EventFollower) -> bool:
    return running.degraded is not None


async def median(runs: int, measure: Callable[[], Awaitable[float]]) -> float:
    return statistics.median([await measure() for _ in range(runs)])


async def bench(shape: Shape, tail: int, runs: int, workdir: Path) -> None:
    credentials = workdir / "credentials"
    nats_auth.ensure_credentials(credentials)
    port = free_port()
    server = nats_server(
        port,
        workdir / "jetstream",
        credentials / nats_auth.SERVER_CONFIG,
        workdir / "nats.log",
    )
    server.start()
    server.wait_ready()
    url = f"nats://127.0.0.1:{port}"
    nats_auth.provision_streams_now(url, credentials)
    master = generate_master_key()
    started = time.perf_counter()
    events = await write(url, credentials, shape, SecretBox(master))
    print(f"published {events} events in {time.perf_counter() - started:.1f} s")
    bus: dict[str, Any] = {
        "nats_url": url,
        "nats_seed_file": nats_auth.seed_path(credentials, "gateway"),
        "trust_file": credentials / nats_auth.TRUST_FILE,
    }
    plain = Settings(secret_key=master, dev_mode=True, **bus)
    stateful = plain.model_copy(update={"state_dir": workdir / "gateway"})
    try:
        await report(plain, stateful, server, url, credentials, newer_keys(shape, tail), runs)
    finally:
        server.stop()


async def report(
    plain: Settings,
    stateful: Settings,
    server: ManagedProcess,
    url: str,
    credentials: Path,
    tail: Sequence[EventPayload],
    runs: int,
) -> None:
    full = await median(runs, lambda: start_time(plain, caught_up))
    await start_time(stateful, caught_up)  # writes the snapshot
    assert stateful.state_dir is not None
    snapshot = stateful.state_dir / "routing-snapshot.bin"
    size = snapshot.stat().st_size
    writer = follower(stateful)
    writer.start()
    await writer.wait_caught_up()
    writer.written_sequence = 0  # write it again, timed
    started = time.perf_counter()
    writer.write_snapshot()
    write = time.perf_counter() - started
    await writer.stop()
    restored = await median(runs, lambda: start_time(stateful, caught_up))
    server.stop()
    offline = await median(runs, lambda: start_time(stateful, degraded))
    server.start()
    server.wait_ready()
    await publish(url, credentials, tail)
    with_tail = await start_time(stateful, caught_up)  # once: it writes the tail in
    lines = [
        f"full replay (no snapshot):        {full:.2f} s",
        f"from the snapshot (no new event): {restored:.2f} s",
        f"from the snapshot + {len(tail)} events:  {with_tail:.2f} s",
        f"NATS down, serving the snapshot:  {offline:.2f} s",
        f"snapshot: {size / 1e6:.1f} MB, written in {write * 1000:.0f} ms",
    ]
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apis", type=int, default=1_500)
    parser.add_argument("--keys", type=int, default=15_000)
    parser.add_argument("--tail", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aigw-bench-snapshot-") as workdir:
        shape = Shape(
            apis=args.apis,
            applications=args.apis,
            keys=args.keys,
            subscriptions=args.apis + args.apis // 3,
        )
        asyncio.run(bench(shape, args.tail, args.runs, Path(workdir)))


if __name__ == "__main__":
    main()
