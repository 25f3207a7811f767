"""`make soak`: the whole platform under a steady moderate load for a long while, watching
every process's memory and open file descriptors for a trend. A measurement, not a test.

It starts the platform on free ports (aigw.devtools.bench's stack: its own NATS and store, the
store on a SQLite file as make run keeps it), provisions the README's API on the mock
provider, subscribes and gets keys, then for `--minutes` (default 30) makes `--rate` calls a
second (default 50): the mix of aigw.devtools.soak_load, streaming and not, a few refused on
purpose, while a deploy and a key rotation happen once a minute each.

Every `--sample-seconds` (default 60) it samples the RSS and open fds of every process (NATS,
the store, the mock provider, the embedding model, each service; aigw.devtools.soak_sampling)
and prints one line. At the end it reports per process the least-squares slope from the
third sample on (MiB/hour, fds/hour: the first two are warm-up), the calls, the errors by
kind and the latency, then waits until the publisher's usage report (`GET /apis/{id}/usage`)
counts every call served and says how long after the load that took. The report goes to
`<data dir>/soak-<time>.json` (default `.data/soak/`). Exit status 1 if any call failed
unexpectedly, a process died, or the usage reports miss (or double) a call.
"""

import argparse
import asyncio
import json
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from aigw.devtools import soak_sampling
from aigw.devtools.bench import bench_stack, percentile
from aigw.devtools.soak_load import Load, Management, Tally, drive
from aigw.devtools.stack import Stack
from aigw.devtools.walkthrough import Provisioned, login

# The embedded store cannot group more than about 50,000 records in one report (issue 14), so
# the usage check sums reports over windows of this length.
USAGE_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Options:
    seconds: float
    rate: float
    sample_seconds: float
    management_seconds: float
    usage_timeout: float
    data_dir: Path


Samples = dict[str, list[tuple[float, soak_sampling.Usage]]]


class Sampler:
    """Every process's usage, now and then, and the line printed for each sample."""

    def __init__(self, stack: Stack, tally: Tally) -> None:
        self.stack, self.tally = stack, tally
        self.samples: Samples = {p.name: [] for p in stack.processes}
        self.started = time.monotonic()

    def take(self) -> None:
        at = time.monotonic() - self.started
        for process in self.stack.processes:
            if not process.alive() or process.proc is None:
                self.tally.error(f"process exited: {process.name}")
                continue
            self.samples[process.name].append((at, soak_sampling.usage(process.proc.pid)))
        self.print_line(at)

    def print_line(self, at: float) -> None:
        last = {name: s[-1][1] for name, s in self.samples.items() if s}
        rss = " ".join(f"{name} {u.rss_bytes / soak_sampling.MIB:.0f}" for name, u in last.items())
        fds = " ".join(f"{name} {u.fds}" for name, u in last.items())
        calls, errors = sum(self.tally.calls.values()), sum(self.tally.errors.values())
        print(
            f"{at / 60:5.1f} min  calls {calls:>7,}  errors {errors}  | RSS MiB: {rss}  "
            f"| fds: {fds}",
            flush=True,
        )

    async def every(self, period: float) -> None:
        while True:
            await asyncio.sleep(period)
            self.take()


async def usage_counted(
    stack: Stack, password: str, api_id: str, start: datetime, end: datetime
) -> int:
    """Served calls the publisher's usage reports count for the API in [start, end)."""
    auth = await asyncio.to_thread(login, stack, password)
    base = f"{stack.url('publisher')}/api/publisher/v1"
    counted = 0
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=120) as publisher:
        while start < end:
            until = min(end, start + USAGE_WINDOW)
            params = {"from": start.isoformat(), "to": until.isoformat()}
            response = await publisher.get(f"/apis/{api_id}/usage", params=params)
            response.raise_for_status()
            counted += int(response.json()["totals"]["served"])
            start = until
    return counted


async def usage_check(
    stack: Stack, password: str, api_id: str, start: datetime, served: int, timeout: float
) -> dict[str, Any]:
    """Polls the usage reports until they count `served` calls; the lag after the load."""
    end = datetime.now(UTC) + timedelta(minutes=1)  # a record's time is taken as it settles
    began = time.monotonic()
    counted, failure = 0, None
    while time.monotonic() - began < timeout:
        try:
            counted = await usage_counted(stack, password, api_id, start, end)
        except httpx.HTTPError as exc:
            failure = f"usage report: {exc}"[:200]
        if counted >= served:
            break
        await asyncio.sleep(1.0)
    lag = time.monotonic() - began
    ok = counted == served
    return {
        "served": served,
        "counted": counted,
        "lagSeconds": round(lag, 1),
        "ok": ok,
        **({"lastFailure": failure} if failure and not ok else {}),
    }


async def soak(stack: Stack, api: Provisioned, password: str, options: Options) -> dict[str, Any]:
    tally = Tally()
    load = Load(stack, api, tally)
    sampler = Sampler(stack, tally)
    start = datetime.now(UTC)
    connector = aiohttp.TCPConnector(limit=200)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        sampler.take()
        sampling = asyncio.create_task(sampler.every(options.sample_seconds))
        management = Management(stack, password, load)
        changes = asyncio.create_task(
            management.every(options.management_seconds, options.seconds, session)
        )
        await drive(load, session, options.rate, options.seconds)
        await changes
        sampling.cancel()
        sampler.take()
    # The reports count whole minutes (they read per-minute rollups), so the window starts at
    # a minute boundary before the API existed and also holds the one call provisioning made
    # (walkthrough.wait_until_served stops at its first 200).
    since = (start - timedelta(minutes=2)).replace(second=0, microsecond=0)
    usage = await usage_check(
        stack, password, api.api_id, since, tally.served + 1, options.usage_timeout
    )
    return report(sampler.samples, tally, usage, options, start)


def report(
    samples: Samples, tally: Tally, usage: dict[str, Any], options: Options, start: datetime
) -> dict[str, Any]:
    processes = {name: process_report(points) for name, points in samples.items()}
    errors = sum(tally.errors.values())
    return {
        "command": " ".join(["python -m aigw.devtools.soak", *sys.argv[1:]]),
        "started": start.isoformat(),
        "seconds": options.seconds,
        "rate": options.rate,
        "sampleSeconds": options.sample_seconds,
        "warmUpSamples": soak_sampling.WARM_UP_SAMPLES,
        "processes": processes,
        "calls": {"total": sum(tally.calls.values()), "byKind": dict(tally.calls)},
        "errors": {"total": errors, "byKind": dict(tally.errors)},
        "latencyMs": {kind: spread(s) for kind, s in tally.latencies.items() if s},
        "management": {
            **tally.management,
            "deployMs": spread(tally.deploy_seconds),
            "refusedAfterRevokeMs": spread(tally.refused_after_revoke_seconds),
        },
        "usage": usage,
        "ok": errors == 0 and usage["ok"],
    }


def process_report(points: list[tuple[float, soak_sampling.Usage]]) -> dict[str, Any]:
    rss = [(at, u.rss_bytes / soak_sampling.MIB) for at, u in points]
    fds = [(at, float(u.fds)) for at, u in points]
    return {
        "samples": [
            {"seconds": round(at, 1), "rssMiB": round(mib, 2), "fds": int(n)}
            for (at, mib), (_, n) in zip(rss, fds, strict=True)
        ],
        "rssMiBPerHour": _rounded(soak_sampling.per_hour(rss)),
        "fdsPerHour": _rounded(soak_sampling.per_hour(fds)),
    }


def spread(seconds: list[float]) -> dict[str, float] | None:
    if not seconds:
        return None
    return {
        "p50": round(percentile(seconds, 0.5) * 1000, 2),
        "p99": round(percentile(seconds, 0.99) * 1000, 2),
        "max": round(max(seconds) * 1000, 2),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summary(result: dict[str, Any]) -> list[str]:
    minutes = result["seconds"] / 60
    lines = [
        f"\nsoak: {minutes:g} min at {result['rate']:g} calls/s ({result['command']})\n",
        "| process | RSS first MiB | RSS last MiB | RSS MiB/hour | fds first | fds last | fds/hour |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, process in result["processes"].items():
        if s := process["samples"]:
            rss, fds = _signed(process["rssMiBPerHour"]), _signed(process["fdsPerHour"])
            lines.append(
                f"| {name} | {s[0]['rssMiB']:.1f} | {s[-1]['rssMiB']:.1f} | {rss} "
                f"| {s[0]['fds']} | {s[-1]['fds']} | {fds} |"
            )
    calls, errors, usage = result["calls"], result["errors"], result["usage"]
    management = result["management"]
    counts = {k: v for k, v in management.items() if isinstance(v, int)}
    lines += [
        "",
        f"calls {calls['total']:,}: {_kinds(calls['byKind'])}",
        f"errors {errors['total']}: {_kinds(errors['byKind']) or 'none'}",
        *(f"latency {kind}: {_ms(s)}" for kind, s in result["latencyMs"].items()),
        f"management: {_kinds(counts)}",
        f"deploy answered: {_ms(management['deployMs'])}",
        f"old key refused after revoke/regenerate: {_ms(management['refusedAfterRevokeMs'])}",
        (
            f"usage reports: {usage['counted']:,} of {usage['served']:,} served calls counted, "
            f"{usage['lagSeconds']} s after the load"
        ),
        "result: " + ("OK" if result["ok"] else "FAILED"),
    ]
    return lines


def _ms(spread: dict[str, float] | None) -> str:
    if spread is None:
        return "none"
    return f"p50 {spread['p50']} ms, p99 {spread['p99']} ms, max {spread['max']} ms"


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _kinds(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.items()))


def run(options: Options) -> dict[str, Any]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    options.data_dir.mkdir(parents=True, exist_ok=True)
    with bench_stack("soakapi", persist_store=True) as (stack, api, password):
        result = asyncio.run(soak(stack, api, password, options))
        if not result["ok"]:  # the logs go with the stack's temporary folder otherwise
            logs = options.data_dir / f"soak-{stamp}-logs"
            shutil.copytree(stack.logs, logs)
            result["logs"] = str(logs)
    path = options.data_dir / f"soak-{stamp}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    result["reportPath"] = str(path)
    return result


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the load lasts")
    parser.add_argument("--seconds", type=float, help="the duration in seconds (over --minutes)")
    parser.add_argument("--rate", type=float, default=50.0, help="gateway calls per second")
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument(
        "--management-seconds",
        type=float,
        help="a deploy and a key rotation each (default: "
        "every minute, or a quarter of a run shorter than 4 minutes)",
    )
    parser.add_argument("--usage-timeout", type=float, default=600.0)
    parser.add_argument("--data-dir", type=Path, default=Path(".data/soak"))
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    return Options(
        seconds=seconds,
        rate=args.rate,
        sample_seconds=args.sample_seconds,
        management_seconds=args.management_seconds or min(60.0, seconds / 4),
        usage_timeout=args.usage_timeout,
        data_dir=args.data_dir,
    )


def main(argv: list[str] | None = None) -> int:
    result = run(parse(argv))
    print("\n".join(summary(result)))
    print(f"report: {result['reportPath']}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
