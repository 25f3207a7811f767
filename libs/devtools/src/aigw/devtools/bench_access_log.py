"""The access log's phase of `make bench`: what `GATEWAY_ACCESS_LOG` costs a call.

(bench.py imports this module when it runs the phase, so the helpers it shares come from there.)
The stack's gateway (log off) and a second gateway on the same bus with the log on (a file in
the bench's folder) serve the same API and key: sequential calls, interleaved with direct ones,
give each one's added latency (p50, p99), then a throughput run against each gives its CPU per
request (from /proc), the background writer's work included. Run alone with
`python -m aigw.devtools.bench_access_log`.
"""

import argparse
import asyncio
import os

import aiohttp

from aigw.devtools.bench import (
    Target,
    bench_stack,
    cpu_seconds,
    direct_and_gateway,
    ms,
    percentile,
    poll_until,
    throughput,
)
from aigw.devtools.stack import Stack
from aigw.devtools.walkthrough import Provisioned


async def _interleaved(targets: dict[str, Target], n: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in targets}
    async with aiohttp.ClientSession() as session:
        for _ in range(50):  # warm up connections and code paths
            for target in targets.values():
                await target.call(session)
        for _ in range(n):
            for name, target in targets.items():
                samples[name].append(await target.call(session))
    return samples


async def _cpu_per_request(target: Target, pid: int, args: argparse.Namespace) -> float:
    before = cpu_seconds(pid)
    _, count = await throughput(target, args.concurrency, args.seconds)
    await asyncio.sleep(0.5)  # the log's writer runs every 0.25 s: count its last batch too
    return (cpu_seconds(pid) - before) / count


async def access_log_costs(
    stack: Stack, api: Provisioned, direct: Target, args: argparse.Namespace
) -> list[str]:
    _, off = direct_and_gateway(stack, api)
    path = stack.config.data_dir / "access.log"
    with stack.another_gateway("gateway-access-log", GATEWAY_ACCESS_LOG=str(path)) as process:
        url = f"http://127.0.0.1:{process.port}/{api.route_prefix}/v1/chat/completions"
        on = Target(url, {"Authorization": off.headers["Authorization"]})
        async with aiohttp.ClientSession() as session:
            await poll_until(session, on, 200)
        samples = await _interleaved({"direct": direct, "off": off, "on": on}, args.requests)
        pids = {p.name: p.proc.pid for p in stack.processes if p.proc}
        assert process.proc is not None
        cpu = {
            "off": await _cpu_per_request(off, pids["gateway"], args),
            "on": await _cpu_per_request(on, process.proc.pid, args),
        }
    lines = path.read_text("utf-8").count("\n")
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
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="sequential rounds")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with bench_stack() as (stack, api, _):
        direct, _gateway = direct_and_gateway(stack, api)
        rows = asyncio.run(access_log_costs(stack, api, direct, args))
    print(f"\naigw access log benchmark ({os.cpu_count()} CPUs, mock provider, loopback)\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
