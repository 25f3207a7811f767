"""The bench's tracing phase (`make bench` runs it; `python -m aigw.devtools.bench_tracing`
runs only it, on a stack of its own): what OpenTelemetry tracing costs a gateway call.

Three gateways of their own on the bench's stack, the same in all but their OTEL_* settings:
tracing off (no endpoint), on with every call sampled, and on at 10 %, exporting to the dev
OTLP collector (`aigw.devtools.otlp_collector`, a process of its own so that decoding the
spans takes no CPU from the bench's client). They run side by side and are called in turn,
so that the machine's other work falls on all alike: sequential calls, one to each and one
direct (p50/p99 added latency), then CPU per call at a fixed concurrency (the gateway
process's CPU, its exporter thread included; the median of three rounds).
"""

import argparse
import contextlib
import statistics
import sys
from collections.abc import Iterator

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
    with proc.running(60):
        yield proc


@contextlib.contextmanager
def collector_process(stack: Stack) -> Iterator[str]:
    """The dev collector as its own process: its URL."""
    port = free_port()
    argv = [sys.executable, "-m", "aigw.devtools.otlp_collector", "--port", str(port), "--quiet"]
    proc = ManagedProcess("otlp-collector", argv, port=port, log_path=stack.logs / "otlp.log")
    with proc.running(20):
        yield f"http://127.0.0.1:{port}"


async def exported(collector: str) -> int:
    """The spans the collector has taken so far."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{collector}{STATS_PATH}") as response,
    ):
        return int((await response.json())["spans"])


async def gateway_target(stack: Stack, api: Provisioned, proc: ManagedProcess) -> Target:
    """The bench's API through `proc`, once it serves it (it has replayed the events)."""
    _, main = direct_and_gateway(stack, api)
    url = main.url.replace(stack.url("gateway"), f"http://127.0.0.1:{proc.port}")
    gateway = Target(url, {k: v for k, v in main.headers.items() if k != "content-type"})
    async with aiohttp.ClientSession() as session:
        await poll_until(session, gateway, 200, timeout=30)
    return gateway


async def cpu_per_call(
    gateways: list[tuple[Target, ManagedProcess]], args: argparse.Namespace, rounds: int = 3
) -> list[float]:
    """Each gateway's CPU seconds per call at a fixed concurrency: the median of `rounds`
    rounds, taken in turn."""
    seen: list[list[float]] = [[] for _ in gateways]
    for _ in range(rounds):
        for cpu, (target, proc) in zip(seen, gateways, strict=True):
            assert proc.proc is not None
            before = cpu_seconds(proc.proc.pid)
            _, count = await throughput(target, args.concurrency, args.seconds / rounds)
            cpu.append((cpu_seconds(proc.proc.pid) - before) / count)
    return [statistics.median(cpu) for cpu in seen]


async def tracing_costs(
    stack: Stack, api: Provisioned, direct: Target, args: argparse.Namespace
) -> list[str]:
    with contextlib.ExitStack() as held:
        collector = held.enter_context(collector_process(stack))
        procs = []
        for number, (_, extra) in enumerate(CONFIGS):
            env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector, **extra} if extra else {}
            procs.append(held.enter_context(extra_gateway(stack, f"t{number}", env)))
        targets = [await gateway_target(stack, api, proc) for proc in procs]
        plain, *traced = await interleaved([direct, *targets], args.requests)
        cpu = await cpu_per_call(list(zip(targets, procs, strict=True)), args)
        spans = await exported(collector)
    lines = [
        (
            "| tracing (OTLP/HTTP JSON to a local collector) | added p50 ms | added p99 ms "
            "| gateway CPU per call | CPU vs off |"
        ),
        "|---|---|---|---|---|",
    ]
    for number, ((name, _), samples) in enumerate(zip(CONFIGS, traced, strict=True)):
        added50 = percentile(samples, 0.5) - percentile(plain, 0.5)
        added99 = percentile(samples, 0.99) - percentile(plain, 0.99)
        delta = f"{(cpu[number] - cpu[0]) * 1e6:+,.0f} µs" if number else ""
        used = f"{cpu[number] * 1e6:,.0f} µs"
        lines.append(f"| {name} | {ms(added50)} | {ms(added99)} | {used} | {delta} |")
    lines.append(f"| spans the collector took | {spans:,} | | | |")
    return lines


def main() -> None:
    run_phase(__doc__, "gateway tracing", tracing_costs, seconds_help="per gateway, CPU phase")


if __name__ == "__main__":
    main()
