"""The gateway's restart with and without its routing table snapshot (GATEWAY_STATE_DIR).

On a nats-server of its own (authorization and streams as `make run` has them), the bench
publishes `--events` management events (aigw.devtools.event_churn: APIs deployed again and
again, keys, subscriptions, plans...) as the services sign them, then starts the gateway's
event follower (what a gateway's start waits for) and reports, as the median of `--runs`:

- full replay: no snapshot, from the stream's first event to caught up;
- from the snapshot: restore, then follow on from the snapshot's sequence (nothing after it);
- from the snapshot + a tail of `--tail` newer events;
- NATS down: restore, and serving (degraded) from the snapshot;

and the snapshot's size and write time.

    .venv/bin/python -m aigw.devtools.bench_snapshot --events 20000
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NatsClient

from aigw.common.crypto import SecretBox, generate_master_key
from aigw.common.event_trust import EventSigner
from aigw.common.events import EventPayload, new_event
from aigw.common.identity import Identity, emitter_of
from aigw.common.messaging import signed_message
from aigw.devtools import nats_auth
from aigw.devtools.event_churn import churn
from aigw.devtools.processes import ManagedProcess, free_port, nats_server
from aigw.gateway.app import table_snapshots
from aigw.gateway.routing.follower import EventFollower
from aigw.gateway.routing.table import RoutingTable
from aigw.gateway.settings import Settings


async def publish(url: str, credentials: Path, payloads: Sequence[EventPayload]) -> None:
    """Each payload as its emitter signs it, on that identity's connection; acks awaited in
    windows (a stream of this size would take long one ack at a time)."""
    connections: dict[str, NatsClient] = {}
    signers: dict[str, EventSigner] = {}
    try:
        pending = []
        for payload in payloads:
            identity = emitter_of(payload.TYPE)
            assert identity is not None, payload.TYPE
            if identity not in connections:
                options = nats_auth.connect_options(credentials, identity)
                connections[identity] = await nats.connect(url, **options)
                seed = nats_auth.seed_path(credentials, identity)
                signers[identity] = EventSigner(Identity.load(identity, seed))
            event = new_event(payload, source=identity, actor="bench")
            body, headers = signed_message(event, signers[identity])
            js = connections[identity].jetstream()
            pending.append(js.publish(event.type, body, headers=headers, timeout=30))
            if len(pending) >= 200:  # order within a window may differ: harmless for churn
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        for nc in connections.values():
            await nc.close()


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


async def bench(events: int, tail: int, runs: int, workdir: Path) -> None:
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
    box = SecretBox(master)
    stream = churn(events + tail, box, seed=1)
    started = time.perf_counter()
    await publish(url, credentials, stream[:events])
    print(f"published {events} events in {time.perf_counter() - started:.1f} s")
    bus: dict[str, Any] = {
        "nats_url": url,
        "nats_seed_file": nats_auth.seed_path(credentials, "gateway"),
        "trust_file": credentials / nats_auth.TRUST_FILE,
    }
    plain = Settings(secret_key=master, dev_mode=True, **bus)
    stateful = plain.model_copy(update={"state_dir": workdir / "gateway"})
    try:
        await report(plain, stateful, server, url, credentials, stream[events:], runs)
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
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--tail", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aigw-bench-snapshot-") as workdir:
        asyncio.run(bench(args.events, args.tail, args.runs, Path(workdir)))


if __name__ == "__main__":
    main()
