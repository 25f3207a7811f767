"""The bench's tracing phase (`make bench` runs it; `python -m aigw.devtools.bench_tracing`
runs only it, on a stack of its own): what OpenTelemetry tracing costs a gateway call.

Three gateways of their own on the bench's stack, the same in all but their OTEL_* settings:
tracing off (no endpoint), on with every call sampled, and on at 10 %, exporting to the
dev OTLP collector (`aigw.devtools.otlp_collector`, a process of its own so that decoding
the spans takes no CPU from the bench's client). Each is measured as the main
bench measures the gateway: sequential calls alternating with direct ones (p50/p99 added
latency), then CPU per call at a fixed concurrency (the gateway process's CPU, its exporter
thread included)."""

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator

import aiohttp

from aigw.devtools.bench import (
    Target,
    bench_stack,
    cpu_seconds,
    direct_and_gateway,
    ms,
    percentile,
    poll_until,
    sequential,
    throughput,
)
from aigw.devtools.otlp_collector import STATS_PATH
from aigw.devtools.processes import ManagedProcess, free_port
from aigw.devtools.stack import Stack
from aigw.devtools.walkthrough import Provisioned

CONFIGS: tuple[tuple[str, dict[str, str]], ...] = (
    ("tracing off", {}),
    ("tracing on, every call sampled", {"OTEL_TRACES_SAMPLER_ARG": "1"}),
    ("tracing on, 10 % sampled", {"OTEL_TRACES_SAMPLER_ARG": "0.1"}),
)


@contextlib.contextmanager
def extra_gateway(stack: Stack, label: str, env: dict[str, str]) -> Iterator[ManagedProcess]:
    """Another gateway process on the stack (its own port), with `env` added."""
    [main] = [p for p in stack.processes if p.name == "gateway"]
    port = free_port()
    proc = ManagedProcess(
        f"gateway-{label}",
        main.argv,
        port=port,
        env={**main.env, "GATEWAY_PORT": str(port), **env},
        ready_url=f"http://127.0.0.1:{port}/health/ready",
        log_path=stack.logs / f"gateway-{label}.log",
    )
    proc.start()
    try:
        proc.wait_ready(60)
        yield proc
    finally:
        proc.stop()


async def _one(
    stack: Stack,
    api: Provisioned,
    direct: Target,
    env: dict[str, str],
    label: str,
    args: argparse.Namespace,
) -> tuple[list[float], list[float], float]:
    with extra_gateway(stack, label, env) as proc:
        _, main = direct_and_gateway(stack, api)
        url = main.url.replace(stack.url("gateway"), f"http://127.0.0.1:{proc.port}")
        gateway = Target(url, {k: v for k, v in main.headers.items() if k != "content-type"})
        async with aiohttp.ClientSession() as session:  # until it has replayed the API
            await poll_until(session, gateway, 200, timeout=30)
        samples = await sequential(direct, gateway, args.requests)
        assert proc.proc is not None
        before = cpu_seconds(proc.proc.pid)
        _, count = await throughput(gateway, args.concurrency, args.seconds)
        cpu = (cpu_seconds(proc.proc.pid) - before) / count
    return samples["direct"], samples["gateway"], cpu


async def tracing_costs(
    stack: Stack, api: Provisioned, direct: Target, args: argparse.Namespace
) -> list[str]:
    lines = [
        (
            "| tracing (OTLP/HTTP JSON to a local collector) | added p50 ms | added p99 ms "
            "| gateway CPU per call |"
        ),
        "|---|---|---|---|",
    ]
    with collector_process(stack) as collector:
        for number, (name, extra) in enumerate(CONFIGS):
            env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector, **extra} if extra else {}
            before = await exported(collector)
            plain, traced, cpu = await _one(stack, api, direct, env, f"t{number}", args)
            added50 = percentile(traced, 0.5) - percentile(plain, 0.5)
            added99 = percentile(traced, 0.99) - percentile(plain, 0.99)
            spans = f" ({await exported(collector) - before:,} spans)" if extra else ""
            row = f"| {name} | {ms(added50)} | {ms(added99)} | {cpu * 1e6:,.0f} µs{spans} |"
            lines.append(row)
    return lines


@contextlib.contextmanager
def collector_process(stack: Stack) -> Iterator[str]:
    """The dev collector as its own process: its URL."""
    port = free_port()
    argv = [sys.executable, "-m", "aigw.devtools.otlp_collector", "--port", str(port), "--quiet"]
    url = f"http://127.0.0.1:{port}"
    proc = ManagedProcess("otlp-collector", argv, port=port, log_path=stack.logs / "otlp.log")
    proc.start()
    try:
        proc.wait_ready(20)
        yield url
    finally:
        proc.stop()


async def exported(collector: str) -> int:
    """The spans the collector has taken (the gateway's exporter posts within a second)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{collector}{STATS_PATH}") as response,
    ):
        return int((await response.json())["spans"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="sequential pairs")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with bench_stack() as (stack, api, _):
        direct, _gateway = direct_and_gateway(stack, api)
        lines = asyncio.run(tracing_costs(stack, api, direct, args))
    print(f"\naigw gateway tracing benchmark ({os.cpu_count()} CPUs, mock provider, loopback)\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
