"""`make bench-replay`: a gateway on a large event stream, measured. A benchmark, not a test.

For each platform size (one API, then `--apis` APIs with their applications, subscriptions and
keys, `aigw.devtools.synthetic_stream`), on its own authenticated NATS JetStream (as the tests
run it) with the mock provider:

- replay: the stream written, a gateway process started: spawn → `/health/ready` (the whole
  stream folded), and its RSS then;
- a call's added latency: sequential calls through the gateway against the same calls straight
  to the mock provider (p50 and p99 of the difference);
- while `--concurrency` clients keep calling: `--changes` new APIs deployed one after the other,
  each timed from its publication to the first call that is routed (no more 404), and as many
  keys revoked, each timed to the first call refused (401);
- the shared snapshot (the large platform only): the snapshotter process started on the same
  stream until it wrote its snapshot (its size and write time from its log, its RSS), then
  `--runs` fresh gateways (no GATEWAY_STATE_DIR) from it, interleaved with as many full replays
  (GATEWAY_SHARED_SNAPSHOT=false): spawn → ready (p50, max), CPU, RSS, and the fetch + verify
  and fold times the gateway logs; then `--tail` keys published after the snapshot: the RSS of
  a gateway from the snapshot once it folded them live, and a fresh start with them to replay.

`--profile` folds the same stream in this process (no NATS) under cProfile and prints where the
time goes. Goals (issue 14): ready ≤ 5 s on 100,000 events, RSS ≤ 200 MB, the same added latency
with 10,000 APIs as with one, deploy → routable p99 ≤ 50 ms, revoke → refused p99 ≤ 100 ms.
"""

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import aiohttp
import httpx
import nats

from aigw.common.crypto import SecretBox, generate_master_key
from aigw.common.event_trust import EventVerifier
from aigw.common.events import KeyRevoked
from aigw.common.identity import PROVISIONER, SNAPSHOTTER, read_trust_file
from aigw.common.messaging import STREAM_NAME
from aigw.devtools import nats_auth, synthetic_stream
from aigw.devtools.bench import cpu_seconds, percentile
from aigw.devtools.bench_snapshot import newer_keys, publish
from aigw.devtools.processes import ManagedProcess, free_port, nats_server, venv_bin
from aigw.devtools.synthetic_stream import Shape
from aigw.gateway.routing.follower import EventFollower
from aigw.gateway.routing.table import RoutingTable

CHAT = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Count my tokens"}]}'
ONE_API = Shape(apis=1, applications=1, keys=1, subscriptions=1)


@dataclass
class Platform:
    root: Path
    nats_url: str
    mock_url: str
    secret_key: str

    @property
    def credentials(self) -> Path:
        return self.root / "credentials"


@contextlib.contextmanager
def platform(root: Path) -> Iterator[Platform]:
    """NATS (authenticated, streams provisioned) and the mock provider, on free ports."""
    credentials = root / "credentials"
    nats_auth.ensure_credentials(credentials)
    nats = nats_server(
        free_port(), root / "jetstream", credentials / nats_auth.SERVER_CONFIG, root / "nats.log"
    )
    mock_port = free_port()
    mock = ManagedProcess(
        "mock-provider",
        [sys.executable, "-m", "aigw.devtools.mock_provider", "--port", str(mock_port)],
        port=mock_port,
        log_path=root / "mock.log",
    )
    try:
        for process in (nats, mock):
            process.start()
            process.wait_ready()
        url = f"nats://127.0.0.1:{nats.port}"
        nats_auth.provision_streams_now(url, credentials)
        yield Platform(root, url, f"http://127.0.0.1:{mock_port}", generate_master_key())
    finally:
        mock.stop()
        nats.stop()


def replay_seconds(log: str) -> float | None:
    """From the follower's own log lines: subscribed ("following ...") → "caught up"."""
    stamps = {}
    for line in log.splitlines():
        for mark in ("following AIGW_EVENTS", "routing table caught up"):
            if mark in line and mark not in stamps:
                stamps[mark] = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    if len(stamps) < 2:
        return None
    return (stamps["routing table caught up"] - stamps["following AIGW_EVENTS"]).total_seconds()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The process's RSS now (or, with "VmHWM", its peak so far) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bus_env(p: Platform, identity: str) -> dict[str, str]:
    """The environment that puts a process on the platform's NATS as `identity`."""
    return {
        "NATS_URL": p.nats_url,
        "NATS_SEED_FILE": str(nats_auth.seed_path(p.credentials, identity)),
        "AIGW_TRUST_FILE": str(p.credentials / nats_auth.TRUST_FILE),
    }


def start_gateway(p: Platform, **env: str) -> tuple[ManagedProcess, float]:
    """A gateway process (`env` added to its environment) and the seconds from its spawn to
    ready (10 ms resolution)."""
    port = free_port()
    gateway = ManagedProcess(
        "gateway",
        [venv_bin("python"), "-m", "aigw.gateway"],
        port=port,
        env={
            **bus_env(p, "gateway"),
            "AIGW_SECRET_KEY": p.secret_key,
            "AIGW_DEV_MODE": "true",
            "AIGW_LOG_LEVEL": "INFO",
            "GATEWAY_PORT": str(port),
            **env,
        },
        ready_url=f"http://127.0.0.1:{port}/health/ready",
        log_path=p.root / "gateway.log",
    )
    started = time.perf_counter()
    gateway.start()
    while not gateway.is_ready():
        if not gateway.alive():
            gateway.wait_ready(0)  # raises with the log's tail
        time.sleep(0.01)
    return gateway, time.perf_counter() - started


class Caller:
    """Calls one gateway (and the mock provider directly) on keep-alive connections."""

    def __init__(self, session: aiohttp.ClientSession, gateway: str, mock: str) -> None:
        self.session, self.gateway, self.mock = session, gateway, mock

    async def status(self, prefix: str, key: str) -> int:
        url = f"{self.gateway}/{prefix}/v1/chat/completions"
        headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
        async with self.session.post(url, data=CHAT, headers=headers) as response:
            await response.read()
            return response.status

    async def timed(self, call: Callable[[], Awaitable[int]]) -> float:
        started = time.perf_counter()
        status = await call()
        if status != 200:
            raise RuntimeError(f"a benchmark call answered {status}")
        return time.perf_counter() - started

    async def direct(self) -> int:
        headers = {"Authorization": "Bearer mock-sandbox-key", "content-type": "application/json"}
        async with self.session.post(
            f"{self.mock}/v1/chat/completions", data=CHAT, headers=headers
        ) as response:
            await response.read()
            return response.status


def call_api0(caller: Caller) -> Callable[[], Awaitable[int]]:
    # key 0 (SANDBOX) belongs to application 0, subscribed to API 0 (an OpenAI API)
    return lambda: caller.status(synthetic_stream.route_prefix(0), synthetic_stream.api_key(0))


async def added_latency(caller: Caller, n: int) -> list[float]:
    """p50 and p99 of (gateway call - the direct call right after it), `n` pairs, warmed up."""
    added = []
    for i in range(n + 50):
        through = await caller.timed(call_api0(caller))
        direct = await caller.timed(caller.direct)
        if i >= 50:
            added.append(through - direct)
    return [percentile(added, 0.5), percentile(added, 0.99)]


async def until(probe: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> float:
    started = time.perf_counter()
    while not await probe():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the change never reached the gateway")
    return time.perf_counter() - started


async def changes(
    caller: Caller, p: Platform, shape: Shape, n: int
) -> tuple[list[float], list[float]]:
    """Deploy → routable and revoke → refused, `n` of each, one after the other."""
    box = SecretBox(p.secret_key)
    deploys: list[float] = []
    revokes: list[float] = []
    # each revoked key calls its own application's API (an OpenAI one: index divisible by 4)
    apps = [a for a in range(min(shape.applications, shape.subscriptions)) if a % 4 == 0]
    async with synthetic_stream.Publisher(p.nats_url, p.credentials) as publisher:
        for j in range(n):
            index = shape.apis + j * 4  # new OpenAI APIs at new prefixes
            prefix = synthetic_stream.route_prefix(index)
            started = time.perf_counter()
            await publisher.publish(synthetic_stream.deployed(shape, box, index))

            async def routed(prefix: str = prefix) -> bool:
                return await caller.status(prefix, synthetic_stream.api_key(0)) != 404

            await until(routed)
            deploys.append(time.perf_counter() - started)
            app = apps[j % len(apps)]
            key = app + shape.applications * (1 + j // len(apps))  # one of app's keys
            prefix = synthetic_stream.route_prefix(
                synthetic_stream.subscription_pair(shape, app)[1]
            )
            started = time.perf_counter()
            await publisher.publish(KeyRevoked(key_id=synthetic_stream.key_id(key)))

            async def refused(prefix: str = prefix, key: int = key) -> bool:
                return await caller.status(prefix, synthetic_stream.api_key(key)) == 401

            await until(refused)
            revokes.append(time.perf_counter() - started)
    return deploys, revokes


async def load(caller: Caller, stop: asyncio.Event, counts: dict[str, int]) -> None:
    while not stop.is_set():
        status = await call_api0(caller)()
        counts["ok" if status == 200 else "failed"] += 1


@dataclass
class Measured:
    added: list[float]  # p50, p99
    deploys: list[float] = field(default_factory=list)
    revokes: list[float] = field(default_factory=list)
    served: int = 0  # calls answered 200 while the changes went on
    failed: int = 0
    seconds: float = 0.0
    concurrency: int = 0


async def measure(
    p: Platform, gateway_url: str, shape: Shape, args: argparse.Namespace
) -> Measured:
    connector = aiohttp.TCPConnector(limit=args.concurrency + 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        caller = Caller(session, gateway_url, p.mock_url)
        result = Measured(await added_latency(caller, args.calls))
        if not args.changes:
            return result
        stop, counts = asyncio.Event(), {"ok": 0, "failed": 0}
        workers = [asyncio.create_task(load(caller, stop, counts)) for _ in range(args.concurrency)]
        started = time.perf_counter()
        result.deploys, result.revokes = await changes(caller, p, shape, args.changes)
        stop.set()
        await asyncio.gather(*workers)
        result.seconds = time.perf_counter() - started
        result.served, result.failed = counts["ok"], counts["failed"]
        result.concurrency = args.concurrency
        return result


@dataclass
class Replayed:
    events: int
    written: float  # seconds to write the stream
    ready: float  # spawn → ready
    replay: float | None  # the follower's own: subscribed → caught up
    cpu: float  # the process's CPU seconds until ready
    rss: float  # MB when ready


def run(shape: Shape, args: argparse.Namespace, shared: bool = False) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="aigw-bench-replay-") as tmp, platform(Path(tmp)) as p:
        shape = replace(shape, upstream=p.mock_url)
        started = time.perf_counter()
        box = SecretBox(p.secret_key)
        count = asyncio.run(synthetic_stream.write(p.nats_url, p.credentials, shape, box))
        written = time.perf_counter() - started
        gateway, ready = start_gateway(p)
        try:
            assert gateway.proc is not None
            pid = gateway.proc.pid
            replayed = replay_seconds(gateway.log_since_start())
            stats = Replayed(count, written, ready, replayed, cpu_seconds(pid), rss_mb(pid))
            result = asyncio.run(measure(p, f"http://127.0.0.1:{gateway.port}", shape, args))
        finally:
            gateway.stop()
        # the changes above were published after the stream: the snapshot's sequence is past them
        extra = shared_snapshot(p, shape, last_sequence(p), args) if shared else []
    return report(shape, stats, result) + extra


# the shared snapshot (the snapshotter's, in the AIGW_SNAPSHOTS object store)

WRITTEN = re.compile(r"snapshot written at sequence (\d+): (\d+) events, (\d+) bytes, ([\d.]+) s")
RESTORED = re.compile(
    r"shared snapshot at sequence \d+ .*read and verified in ([\d.]+) s, folded in ([\d.]+) s"
)
# a bench gateway stops at once (no drain); the shared snapshot is left off only when asked
FRESH = {"GATEWAY_DRAIN_SECONDS": "0"}
FULL_REPLAY = {**FRESH, "GATEWAY_SHARED_SNAPSHOT": "false"}


def gauge(url: str, name: str) -> float:
    """A gauge's value on a /metrics page (0 when it is not there)."""
    for line in httpx.get(url, timeout=5).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def wait_gauge(url: str, name: str, at_least: float, timeout: float = 600.0) -> float:
    started = time.perf_counter()
    while gauge(url, name) < at_least:
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"{name} never reached {at_least}")
        time.sleep(0.05)
    return time.perf_counter() - started


@dataclass
class Written:
    ready: float  # spawn → caught up (its own full replay)
    written: float  # spawn → the snapshot written
    write: float  # the write itself (its log line): encode, sign, put
    size: int
    rss: float


def write_shared_snapshot(p: Platform, sequence: int) -> Written:
    """The snapshotter started, until it wrote its snapshot at `sequence`, then stopped (so it
    neither competes with the gateways measured nor writes the newer events in)."""
    port = free_port()
    snapshotter = ManagedProcess(
        "snapshotter",
        [venv_bin("python"), "-m", "aigw.gateway.snapshotter"],
        port=port,
        env={
            **bus_env(p, SNAPSHOTTER),
            "AIGW_LOG_LEVEL": "INFO",
            "SNAPSHOTTER_PORT": str(port),
            "SNAPSHOTTER_INTERVAL": "3600",
        },
        ready_url=f"http://127.0.0.1:{port}/health/ready",
        log_path=p.root / "snapshotter.log",
    )
    started = time.perf_counter()
    with snapshotter.running(timeout=600):
        ready = time.perf_counter() - started
        metrics = f"http://127.0.0.1:{port}/metrics"
        wait_gauge(metrics, "aigw_snapshotter_snapshot_sequence", sequence)
        written = time.perf_counter() - started
        assert snapshotter.proc is not None
        rss = rss_mb(snapshotter.proc.pid)
        said = WRITTEN.search(snapshotter.log_since_start())
        if said is None:
            raise RuntimeError("the snapshotter's log does not say it wrote the snapshot")
    return Written(ready, written, float(said[4]), int(said[3]), rss)


@dataclass
class Start:
    ready: float  # spawn → ready
    cpu: float
    rss: float
    peak: float  # the RSS's peak until ready (a restore's buffers, freed since)
    read: float = 0.0  # the shared snapshot fetched and verified (its log line)
    folded: float = 0.0  # its events restored into the table


def fresh_start(p: Platform, env: dict[str, str], shared: bool) -> tuple[ManagedProcess, Start]:
    """A gateway with no table of its own, started; from the shared snapshot when `shared`
    (its log must say so: a refused one would replay the whole stream, unnoticed)."""
    gateway, ready = start_gateway(p, **env)
    assert gateway.proc is not None
    pid = gateway.proc.pid
    start = Start(ready, cpu_seconds(pid), rss_mb(pid), rss_mb(pid, "VmHWM"))
    restored = RESTORED.search(gateway.log_since_start())
    if shared:
        if restored is None:
            gateway.stop()
            raise RuntimeError("the gateway did not start from the shared snapshot")
        start.read, start.folded = float(restored[1]), float(restored[2])
    return gateway, start


def started(p: Platform, env: dict[str, str], shared: bool) -> Start:
    gateway, start = fresh_start(p, env, shared)
    gateway.stop()
    return start


def last_sequence(p: Platform) -> int:
    async def ask() -> int:
        options = nats_auth.connect_options(p.credentials, PROVISIONER)
        nc = await nats.connect(p.nats_url, **options)
        try:
            return int((await nc.jetstream().stream_info(STREAM_NAME)).state.last_seq)
        finally:
            await nc.close()

    return asyncio.run(ask())


def shared_snapshot(
    p: Platform, shape: Shape, sequence: int, args: argparse.Namespace
) -> list[str]:
    """Fresh gateways from the shared snapshot (written at the stream's last `sequence`) against
    full replays, interleaved (the machine's other work falls on both alike), then with
    `--tail` newer events."""
    written = write_shared_snapshot(p, sequence)
    shared: list[Start] = []
    full: list[Start] = []
    for run in range(args.runs):  # alternate which goes first
        pair = [(shared, FRESH, True), (full, FULL_REPLAY, False)]
        for samples, env, from_shared in pair if run % 2 == 0 else pair[::-1]:
            samples.append(started(p, env, from_shared))
    gateway, live = fresh_start(p, FRESH, True)
    try:
        assert gateway.proc is not None
        asyncio.run(publish(p.nats_url, p.credentials, newer_keys(shape, args.tail)))
        metrics = f"http://127.0.0.1:{gateway.port}/metrics"
        wait_gauge(metrics, "aigw_gateway_event_sequence", sequence + args.tail)
        live_rss = rss_mb(gateway.proc.pid)
    finally:
        gateway.stop()
    tail = started(p, FRESH, True)
    return report_shared(written, shared, full, live, live_rss, tail, args.tail)


def spread(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):.2f} s, max {max(samples):.2f} s"


def report_shared(
    written: Written,
    shared: list[Start],
    full: list[Start],
    live: Start,
    live_rss: float,
    tail: Start,
    newer: int,
) -> list[str]:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"- shared snapshot (snapshotter): {written.size / 1e6:.1f} MB, written in "
        + f"{written.write:.2f} s; snapshotter spawn → caught up {written.ready:.1f} s, → "
        + f"written {written.written:.1f} s; its RSS {written.rss:.0f} MB",
        f"- fresh gateway from the shared snapshot ({len(shared)} runs, interleaved): spawn → "
        + f"ready {spread([s.ready for s in shared])}; of which fetched and verified "
        + f"{spread([s.read for s in shared])}, folded {spread([s.folded for s in shared])}; "
        + f"CPU {spread([s.cpu for s in shared])}; RSS {max(s.rss for s in shared):.0f} MB "
        + f"(peak {max(s.peak for s in shared):.0f} MB)",
        f"- fresh gateway, full replay (GATEWAY_SHARED_SNAPSHOT=false, {len(full)} runs): "
        + f"spawn → ready {spread([s.ready for s in full])}; CPU {spread([s.cpu for s in full])}; "
        + f"RSS {max(s.rss for s in full):.0f} MB (peak {max(s.peak for s in full):.0f} MB)",
        f"- from the shared snapshot, then {newer} newer keys folded live: RSS "
        + f"{live.rss:.0f} → {live_rss:.0f} MB; a fresh gateway with those {newer} after the "
        + f"snapshot: spawn → ready {tail.ready:.2f} s, RSS {tail.rss:.0f} MB",
        f"- load average (1/5/15 min) at the end: {load} ({os.cpu_count()} CPUs)",
    ]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def report(shape: Shape, s: Replayed, r: Measured) -> list[str]:
    lines = [
        f"## {shape.apis} APIs, {shape.applications} applications, {shape.subscriptions} "
        + f"subscriptions, {shape.keys} keys: {s.events} events (written in {s.written:.1f} s)",
        f"- gateway spawn → ready {s.ready:.2f} s, of which replay (subscribed → caught up) "
        + f"{s.replay or 0:.2f} s; CPU time until ready {s.cpu:.2f} s; RSS {s.rss:.0f} MB",
        f"- added latency per call: p50 {ms(r.added[0])}, p99 {ms(r.added[1])}",
    ]
    for name, samples in (("deploy → routable", r.deploys), ("revoke → refused", r.revokes)):
        if samples:
            lines.append(
                f"- {name} ({len(samples)} changes): p50 {ms(percentile(samples, 0.5))}, "
                f"p99 {ms(percentile(samples, 0.99))}, max {ms(max(samples))}"
            )
    if r.seconds:
        lines.append(
            f"- meanwhile {r.concurrency} clients were served {r.served / r.seconds:.0f} "
            f"calls/s, {r.failed} failed"
        )
    return lines


def profile(shape: Shape) -> None:
    """Fold the stream in this process under cProfile: wall and CPU time, the top functions."""
    with tempfile.TemporaryDirectory() as tmp:
        credentials = Path(tmp) / "credentials"
        nats_auth.ensure_credentials(credentials)
        box = SecretBox(generate_master_key())
        signers = synthetic_stream.Signers(credentials)
        messages = list(synthetic_stream.messages(synthetic_stream.payloads(shape, box), signers))
        verifier = EventVerifier(read_trust_file(credentials / nats_auth.TRUST_FILE))
    follower = EventFollower("nats://unused", {}, verifier, RoutingTable(), box)
    profiler = cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    profiler.enable()
    for sequence, (subject, body, headers) in enumerate(messages, 1):
        follower.fold(sequence, subject, body, headers)
    profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"folded {len(messages)} events in {wall:.2f} s ({cpu:.2f} s CPU, profiled)")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for size, default in vars(Shape()).items():
        if isinstance(default, int):
            parser.add_argument(f"--{size}", type=int, default=default)
    parser.add_argument("--changes", type=int, default=200, help="deploys and revocations")
    parser.add_argument("--concurrency", type=int, default=4, help="clients calling meanwhile")
    parser.add_argument("--calls", type=int, default=500, help="sequential calls for latency")
    parser.add_argument("--runs", type=int, default=3, help="fresh gateways from each start")
    parser.add_argument("--tail", type=int, default=1000, help="keys after the shared snapshot")
    parser.add_argument("--profile", action="store_true", help="only profile an in-process fold")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    sizes = {f: getattr(args, f) for f, v in vars(Shape()).items() if isinstance(v, int)}
    shape = Shape(**sizes)
    if args.profile:
        profile(shape)
        return
    latency_only = argparse.Namespace(**{**vars(args), "changes": 0})
    lines = ["# make bench-replay", *run(ONE_API, latency_only), *run(shape, args, shared=True)]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
