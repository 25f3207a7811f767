"""The access log's phase of `make bench`: what `GATEWAY_ACCESS_LOG` costs a call.

(bench.py imports this module when it runs the phase, so the helpers it shares come from there.)
Two more gateways on the stack's bus, alike but for the setting (log off; log on, to a file in
the bench's folder), serve the same API and key: sequential calls, interleaved with direct ones,
give each one's added latency (p50, p99), then a throughput run against each gives its CPU per
request (from /proc), the background writer's work included. Last, the writer's own cost per
line, in this process: queueing an entry (what the request path pays) and formatting and writing
it (what the background task pays). Run alone with `python -m aigw.devtools.bench_access_log`.
"""

import argparse
import asyncio
import time
from pathlib import Path

import aiohttp

from aigw.devtools.bench import (
    Target,
    cpu_seconds,
    direct_and_gateway,
    interleaved,
    ms,
    percentile,
    poll_until,
    run_phase,
    throughput,
)
from aigw.devtools.stack import Stack
from aigw.devtools.walkthrough import Provisioned
from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.meter import Usage
from aigw.gateway.proxy.access_log import AccessLog, entry

LINES = 20_000


async def _cpu_per_request(target: Target, pid: int, args: argparse.Namespace) -> float:
    before = cpu_seconds(pid)
    _, count = await throughput(target, args.concurrency, args.seconds)
    await asyncio.sleep(0.5)  # the log's writer runs every 0.25 s: count its last batch too
    return (cpu_seconds(pid) - before) / count


async def _writer_costs(path: Path) -> tuple[float, float]:
    """CPU seconds per line (this process's, the writer's thread included: wall time would
    measure the machine's load): making and queueing an entry of a call (what the request path
    pays), and formatting and writing it (to `path`)."""
    log = AccessLog.open(str(path))
    assert log is not None
    call = Invocation(0.0, "POST", "", "0e3c9ab15c2f4d7e8a1b6c3d9e0f2a4b", label="Chat:1.0")
    usage = Usage(served_model="mistral-small-latest", prompt_tokens=21, completion_tokens=48)
    started = time.process_time()
    for _ in range(LINES):
        log.add(entry(call, usage, 0.0842, 0.0837))
    queued = time.process_time()
    await log.stop()  # formats and writes what is queued, then closes the file
    return (queued - started) / LINES, (time.process_time() - queued) / LINES


async def access_log_costs(
    stack: Stack, api: Provisioned, direct: Target, args: argparse.Namespace
) -> list[str]:
    _, stacks = direct_and_gateway(stack, api)
    path = stack.config.data_dir / "access.log"
    with (
        stack.another_gateway("gateway-log-off", GATEWAY_ACCESS_LOG="off") as off_process,
        stack.another_gateway("gateway-log-on", GATEWAY_ACCESS_LOG=str(path)) as on_process,
    ):
        targets, pids = {"direct": direct}, {}
        for name, process in (("off", off_process), ("on", on_process)):
            url = f"http://127.0.0.1:{process.port}/{api.route_prefix}/v1/chat/completions"
            targets[name] = Target(url, {"Authorization": stacks.headers["Authorization"]})
            assert process.proc is not None
            pids[name] = process.proc.pid
            async with aiohttp.ClientSession() as session:
                await poll_until(session, targets[name], 200)
        rounds = await interleaved(list(targets.values()), args.requests)
        samples = dict(zip(targets, rounds, strict=True))
        cpu = {name: await _cpu_per_request(targets[name], pids[name], args) for name in pids}
    lines = path.read_text("utf-8").count("\n")
    queue, write = await _writer_costs(stack.config.data_dir / "writer.log")
    base = {q: percentile(samples["direct"], q) for q in (0.5, 0.99)}
    rows = [
        (
            f"| access log ({lines:,} lines written) | added p50 ms | added p99 ms "
            f"| gateway CPU per request (concurrency {args.concurrency}) |"
        ),
        "|---|---|---|---|",
    ]
    for name, label in (("off", "GATEWAY_ACCESS_LOG=off"), ("on", "GATEWAY_ACCESS_LOG=<file>")):
        p50 = percentile(samples[name], 0.5) - base[0.5]
        p99 = percentile(samples[name], 0.99) - base[0.99]
        rows.append(f"| {label} | {ms(p50)} | {ms(p99)} | {cpu[name] * 1e6:,.0f} µs |")
    rows.append(
        f"| CPU per line, in-process: queued on the request path {queue * 1e6:.2f} µs, "
        f"formatted and written in the background {write * 1e6:.1f} µs | | | |"
    )
    return rows


def main() -> None:
    run_phase(__doc__, "access log", access_log_costs)


if __name__ == "__main__":
    main()
