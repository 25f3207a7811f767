"""`make bench`: the gateway's added latency and throughput, against calling the mock provider
directly, non-streaming and streaming. A benchmark, not a test: it prints numbers.

It starts the whole stack (own NATS and in-memory store, free ports), provisions an API the
README way, then:
- sequential, interleaved: one direct call, one gateway call, over and over on keep-alive
  connections; added latency = gateway percentile - direct percentile;
- throughput at a fixed concurrency, direct then through the gateway, with the gateway
  process's CPU time per request (from /proc);
- streaming: time to first chunk and to the last chunk, direct vs gateway;
- a token quota: the same sequential run with a plan that limits tokens (and requests) on the
  benchmarked subscription, so every call is reserved, settled and synced;
- a routed call: an API with a routing policy (two targets, weighted round robin, model
  rewritten, a fallback), sequential against the same direct calls, next to the plain call;
- credentials: an OAuth2 access token (JWT, verified at the gateway) against an API key, and
  how long a key revoked through the developer portal keeps working at the gateway;
- guardrails (`bench_guardrails`): a regex on request and response, PII masking, and the
  time to first token with an incremental response guardrail;
- the response cache (`bench_cache`): an exact-cache and a semantic-cache hit against a direct
  call;
- the access log (`bench_access_log`): added latency and CPU per request with
  `GATEWAY_ACCESS_LOG` off (the stack's gateway) and on (a second gateway writing a file).
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import jwt
import nats
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aigw.common.auth import GATEWAY_AUDIENCE, ISSUER
from aigw.common.crypto import generate_master_key
from aigw.common.event_trust import EventSigner
from aigw.common.events import (
    EventPayload,
    OAuthClientCreated,
    PolicyUpdated,
    QuotaLimit,
    SigningKeyRotated,
    SubscriptionUpdated,
    new_event,
)
from aigw.common.identity import Identity, emitter_of
from aigw.common.messaging import signed_message
from aigw.devtools import nats_auth
from aigw.devtools.stack import Ports, Stack, StackConfig
from aigw.devtools.walkthrough import README_BODY, Provisioned, login, provision
from aigw.gateway.client import Pool
from aigw.gateway.client.addresses import ANY_ADDRESS

BODY = README_BODY
STREAM_BODY = BODY[:-1] + b',"stream":true}'

Call = Callable[[aiohttp.ClientSession], Awaitable[float]]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Target:
    """One way to reach the provider: directly, or through the gateway with an app key."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.headers = {"content-type": "application/json", **headers}

    async def call(self, session: aiohttp.ClientSession, body: bytes = BODY) -> float:
        start = time.perf_counter()
        async with session.post(self.url, data=body, headers=self.headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{self.url}: {response.status}")
        return time.perf_counter() - start

    async def stream(self, session: aiohttp.ClientSession) -> tuple[float, float]:
        start = time.perf_counter()
        first = 0.0
        async with session.post(self.url, data=STREAM_BODY, headers=self.headers) as response:
            async for _ in response.content.iter_any():
                first = first or time.perf_counter() - start
        return first, time.perf_counter() - start


async def interleaved(targets: Sequence[Target], n: int) -> list[list[float]]:
    """`n` rounds of sequential calls, one to each target in turn (so that the machine's other
    work falls on all alike), after 50 rounds of warm-up: each target's latencies."""
    samples: list[list[float]] = [[] for _ in targets]
    async with aiohttp.ClientSession() as session:
        for _ in range(50):  # warm up connections and code paths
            for target in targets:
                await target.call(session)
        for _ in range(n):
            for seen, target in zip(samples, targets, strict=True):
                seen.append(await target.call(session))
    return samples


async def sequential(direct: Target, gateway: Target, n: int) -> dict[str, list[float]]:
    plain, through = await interleaved([direct, gateway], n)
    return {"direct": plain, "gateway": through}


async def streaming(
    direct: Target, gateway: Target, n: int
) -> dict[str, list[tuple[float, float]]]:
    samples: dict[str, list[tuple[float, float]]] = {"direct": [], "gateway": []}
    async with aiohttp.ClientSession() as session:
        for _ in range(10):
            await direct.stream(session)
            await gateway.stream(session)
        for _ in range(n):
            samples["direct"].append(await direct.stream(session))
            samples["gateway"].append(await gateway.stream(session))
    return samples


async def throughput(target: Target, concurrency: int, seconds: float) -> tuple[float, int]:
    done = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await target.call(session)
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - start), done


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def times(value: float, base: float) -> str:
    """`value` as a multiple of the direct call's `base`: the machine-independent figure."""
    return f"{value / base:.2f}×"


def report_latency(samples: dict[str, list[float]]) -> list[str]:
    d, g = samples["direct"], samples["gateway"]
    rows = [
        "| sequential, non-streaming | p50 ms | p99 ms | mean ms | p50 × direct |",
        "|---|---|---|---|---|",
    ]
    for name, s in (("direct to provider", d), ("through gateway", g)):
        rows.append(
            f"| {name} | {ms(percentile(s, 0.5))} | {ms(percentile(s, 0.99))} | "
            f"{ms(statistics.mean(s))} | {times(percentile(s, 0.5), percentile(d, 0.5))} |"
        )
    rows.append(
        f"| **added by gateway** | **{ms(percentile(g, 0.5) - percentile(d, 0.5))}** | "
        f"**{ms(percentile(g, 0.99) - percentile(d, 0.99))}** | {ms(statistics.mean(g) - statistics.mean(d))} | |"
    )
    return rows


def report_streaming(samples: dict[str, list[tuple[float, float]]]) -> list[str]:
    rows = [
        (
            "| streaming, sequential | first chunk p50 ms | last chunk p50 ms | last chunk p99 ms "
            "| last chunk p50 × direct |"
        ),
        "|---|---|---|---|---|",
    ]
    direct_last = percentile([t for _, t in samples["direct"]], 0.5)
    for name in ("direct", "gateway"):
        firsts = [f for f, _ in samples[name]]
        lasts = [t for _, t in samples[name]]
        rows.append(
            f"| {name} | {ms(percentile(firsts, 0.5))} | {ms(percentile(lasts, 0.5))} | "
            f"{ms(percentile(lasts, 0.99))} | {times(percentile(lasts, 0.5), direct_last)} |"
        )
    return rows


async def client_costs(direct: Target, n: int) -> list[str]:
    """Why the gateway forwards with its own pool: each candidate client's own latency and CPU
    for the same sequential calls to the provider (the client's CPU is this process's)."""
    rows = [
        "| upstream client, sequential | p50 ms | p99 ms | client CPU per call |",
        "|---|---|---|---|",
    ]

    async def run(call: Callable[[], Awaitable[None]]) -> tuple[list[float], float]:
        for _ in range(50):
            await call()
        samples, cpu = [], time.process_time()
        for _ in range(n):
            start = time.perf_counter()
            await call()
            samples.append(time.perf_counter() - start)
        return samples, (time.process_time() - cpu) / n

    async with aiohttp.ClientSession() as session:

        async def aiohttp_call() -> None:
            async with session.post(direct.url, data=BODY, headers=direct.headers) as r:
                await r.read()

        results = {"aiohttp": await run(aiohttp_call)}
    async with httpx.AsyncClient() as client:

        async def httpx_call() -> None:
            (await client.post(direct.url, content=BODY, headers=direct.headers)).raise_for_status()

        results["httpx"] = await run(httpx_call)
    pool = Pool(addresses=ANY_ADDRESS)  # the mock provider is on this machine
    headers = list(direct.headers.items())

    async def pool_call() -> None:
        response = await pool.request("POST", direct.url, headers, BODY)
        await response.read()
        response.release()

    results["aigw upstream pool (the gateway's)"] = await run(pool_call)
    await pool.close()
    for name, (samples, cpu) in results.items():
        rows.append(
            f"| {name} | {ms(percentile(samples, 0.5))} | {ms(percentile(samples, 0.99))} | {cpu * 1e6:,.0f} µs |"
        )
    return rows


async def publish(stack: Stack, *payloads: EventPayload) -> None:
    """Each payload as the service that owns its subject emits it: that identity's NATS
    connection and signature (the bench holds its private stack's credentials)."""
    for payload in payloads:
        identity = emitter_of(payload.TYPE)
        assert identity is not None, payload.TYPE
        event = new_event(payload, source=identity, actor="bench")
        signer = EventSigner(
            Identity.load(identity, nats_auth.seed_path(stack.credentials, identity))
        )
        body, headers = signed_message(event, signer)
        nc = await nats.connect(
            stack.nats_url, **nats_auth.connect_options(stack.credentials, identity)
        )
        try:
            await nc.jetstream().publish(event.type, body, headers=headers)
        finally:
            await nc.close()


async def bench_token_minter(stack: Stack, api: Provisioned) -> Callable[[], str]:
    """Mints OAuth2 access tokens (RFC 9068 JWTs) for the benchmark's application.

    The bench announces its own signing key and client by event on its private stack and mints
    the token itself, as keymanager's token endpoint does: the gateway's work per request (the
    local EdDSA verification and the checks after it) is the same either way.
    """
    key = Ed25519PrivateKey.generate()
    kid, client_id = f"bench-{uuid.uuid4().hex[:8]}", f"bench-client-{uuid.uuid4().hex[:8]}"
    jwk = jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    await publish(
        stack,
        SigningKeyRotated(kid=kid, jwk={**jwk, "kid": kid}),
        OAuthClientCreated(
            client_id=client_id, application_id=api.application_id, key_type="PRODUCTION"
        ),
    )

    def mint() -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": client_id,
            "aud": GATEWAY_AUDIENCE,
            "iat": now,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
            "client_id": client_id,
            "keyType": "PRODUCTION",
            "applicationId": api.application_id,
        }
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"})

    return mint


async def poll_until(
    session: aiohttp.ClientSession, target: Target, status: int, timeout: float = 10.0
) -> None:
    """Call the gateway every millisecond or so until it answers `status`."""
    deadline = time.perf_counter() + timeout
    while True:
        async with session.post(target.url, data=BODY, headers=target.headers) as response:
            await response.read()
            if response.status == status:
                return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{target.url} never answered {status}")
        await asyncio.sleep(0.001)


async def credential_costs(key: Target, mint: Callable[[], str], n: int) -> list[str]:
    """The same calls through the gateway with an API key, with one access token (its verified
    signature is cached after the first call) and with a new token each call (verified anew)."""
    token = Target(key.url, {"Authorization": f"Bearer {mint()}"})
    fresh = [Target(key.url, {"Authorization": f"Bearer {mint()}"}) for _ in range(n + 50)]
    samples: dict[str, list[float]] = {
        "API key": [],
        "access token (JWT), same token": [],
        "access token (JWT), new token each call": [],
    }
    async with aiohttp.ClientSession() as session:
        await poll_until(session, token, 200)
        for i in range(n + 50):
            timings = [await target.call(session) for target in (key, token, fresh[i])]
            if i >= 50:  # the first 50 warm up connections and code paths
                for name, took in zip(samples, timings, strict=True):
                    samples[name].append(took)
    rows = ["| through gateway, by credential | p50 ms | p99 ms | mean ms |", "|---|---|---|---|"]
    for name, s in samples.items():
        rows.append(
            f"| {name} | {ms(percentile(s, 0.5))} | {ms(percentile(s, 0.99))} | {ms(statistics.mean(s))} |"
        )
    return rows


async def revoke_once(
    dev: httpx.AsyncClient, session: aiohttp.ClientSession, url: str, app_id: str
) -> tuple[float, float]:
    """Issue a key, wait until the gateway takes it, revoke it through the developer portal
    and time until the gateway refuses it: from sending the revoke call, and from its answer."""
    issued = await dev.post(f"/applications/{app_id}/api-keys", json={"keyType": "PRODUCTION"})
    issued.raise_for_status()
    key = issued.json()
    target = Target(url, {"Authorization": f"Bearer {key['apiKey']}"})
    await poll_until(session, target, 200)

    async def revoke() -> float:
        response = await dev.delete(f"/applications/{app_id}/api-keys/{key['id']}")
        response.raise_for_status()
        return time.perf_counter()

    sent = time.perf_counter()
    answered = asyncio.create_task(revoke())
    await poll_until(session, target, 401)
    refused = time.perf_counter()
    return refused - sent, refused - await answered


async def revocation_propagation(
    stack: Stack, api: Provisioned, password: str, rounds: int
) -> list[str]:
    url = f"{stack.url('gateway')}/{api.route_prefix}/v1/chat/completions"
    base = f"{stack.url('devportal')}/api/devportal/v1"
    headers = login(stack, password)
    samples: list[tuple[float, float]] = []
    async with (
        httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as dev,
        aiohttp.ClientSession() as session,
    ):
        for _ in range(rounds):
            samples.append(await revoke_once(dev, session, url, api.application_id))
    from_sent = [sent for sent, _ in samples]
    from_answer = [max(0.0, answered) for _, answered in samples]
    header = f"| revocation reaches the gateway ({rounds} keys, polled every ~1 ms)"
    return [
        f"{header} | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|",
        spread_row("from the revoke call (DELETE sent)", from_sent),
        spread_row("after the revoke call answered", from_answer),
    ]


BENCH_PLAN = PolicyUpdated(
    name="BenchTokenQuota",
    description="a token quota far above what the bench uses: every call is metered",
    limits=[
        QuotaLimit(unit="minute", requests=10**9, total_tokens=10**12),
        QuotaLimit(unit="day", prompt_tokens=10**12, completion_tokens=10**12),
    ],
)


async def switch_plan(stack: Stack, api: Provisioned, gateway: Target, plan: str) -> None:
    """Move the benchmarked subscription to `plan` (by event: the bench owns its stack) and
    wait until the gateway answers with (or without) the quota's headers."""
    await publish(
        stack,
        SubscriptionUpdated(
            subscription_id=api.subscription_id,
            application_id=api.application_id,
            api_id=api.api_id,
            policy=plan,
        ),
    )
    limited = plan != "Unlimited"
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            async with session.post(gateway.url, data=BODY, headers=gateway.headers) as response:
                await response.read()
                if ("x-ratelimit-limit-tokens" in response.headers) == limited:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the gateway never applied plan {plan}")


async def token_quota_costs(
    stack: Stack, api: Provisioned, direct: Target, gateway: Target, args: argparse.Namespace
) -> list[str]:
    """The sequential run again with a token quota on the subscription, then back to
    Unlimited for the rest of the bench."""
    await publish(stack, BENCH_PLAN)
    await switch_plan(stack, api, gateway, BENCH_PLAN.name)
    rows = report_latency(await sequential(direct, gateway, args.requests))
    rows[0] = "| sequential, token quota active | p50 ms | p99 ms | mean ms | p50 × direct |"
    await switch_plan(stack, api, gateway, "Unlimited")
    return rows


def routed_api(stack: Stack, password: str) -> Provisioned:
    """An API whose production calls are spread over two endpoints of the mock by weighted
    round robin, each with its own model, with a fallback: every call is routed."""
    mock = stack.url("mock_provider")
    options = {
        "additionalEndpoints": {"backup": f"{mock}/backup"},
        "routing": {
            "production": {
                "targets": [
                    {"endpoint": "production", "model": "mistral-small-latest", "weight": 3},
                    {"endpoint": "backup", "model": "mistral-large-latest", "weight": 1},
                ],
                "fallbacks": [{"endpoint": "backup", "model": "mistral-large-latest"}],
                "timeoutSeconds": 30,
                "suspendSeconds": 30,
            }
        },
    }
    return provision(
        stack,
        password,
        "benchrouted",
        options=options,
        provider_keys={"backup": "mock-provider-key"},
    )


async def routed_costs(direct: Target, gateway: Target, routed: Target, n: int) -> list[str]:
    """Plain and routed gateway calls interleaved with direct ones: the routing's own cost is
    the difference between the two added latencies."""
    samples: dict[str, list[float]] = {"direct": [], "plain": [], "routed": []}
    async with aiohttp.ClientSession() as session:
        for _ in range(50):  # warm up connections and code paths
            await routed.call(session)
        for _ in range(n):
            samples["direct"].append(await direct.call(session))
            samples["plain"].append(await gateway.call(session))
            samples["routed"].append(await routed.call(session))
    base = {q: percentile(samples["direct"], q) for q in (0.5, 0.99)}
    rows = [
        "| added latency vs direct, interleaved | p50 ms | p99 ms | p50 × direct |",
        "|---|---|---|---|",
    ]
    for name, label in (
        ("plain", "plain call"),
        ("routed", "routed call (2 targets, model rewrite)"),
    ):
        p50 = percentile(samples[name], 0.5)
        p99 = percentile(samples[name], 0.99) - base[0.99]
        rows.append(f"| {label} | {ms(p50 - base[0.5])} | {ms(p99)} | {times(p50, base[0.5])} |")
    return rows


async def throughput_costs(
    stack: Stack, direct: Target, gateway: Target, args: argparse.Namespace
) -> list[str]:
    """Requests per second at a fixed concurrency, direct then through the gateway, and CPU
    per request: the gateway's, against the provider's own when called directly (a gateway
    both serves and calls, so about twice a plain server's work is its floor)."""
    pids = {p.name: p.proc.pid for p in stack.processes if p.proc}
    provider_before = cpu_seconds(pids["mock-provider"])
    rps_direct, direct_count = await throughput(direct, args.concurrency, args.seconds)
    provider_cpu = (cpu_seconds(pids["mock-provider"]) - provider_before) / direct_count
    gateway_before = cpu_seconds(pids["gateway"])
    rps_gateway, count = await throughput(gateway, args.concurrency, args.seconds)
    gateway_cpu = (cpu_seconds(pids["gateway"]) - gateway_before) / count
    return [
        (
            f"| throughput, concurrency {args.concurrency}, {args.seconds:.0f} s | requests/s "
            "| × direct |"
        ),
        "|---|---|---|",
        f"| direct to provider | {rps_direct:,.0f} | |",
        f"| through gateway | {rps_gateway:,.0f} | {times(rps_gateway, rps_direct)} |",
        f"| provider CPU per direct request | {provider_cpu * 1e6:,.0f} µs | |",
        (
            f"| gateway CPU per request | {gateway_cpu * 1e6:,.0f} µs "
            f"| {times(gateway_cpu, provider_cpu)} |"
        ),
    ]


def spread_row(name: str, samples: list[float]) -> str:
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    return f"| {name} | {ms(p50)} | {ms(p99)} | {ms(max(samples))} |"


Phase = Callable[[Stack, Provisioned, Target, argparse.Namespace], Coroutine[Any, Any, list[str]]]


def run_phase(doc: str, title: str, phase: Phase, seconds_help: str | None = None) -> None:
    """A phase's `python -m` entry (the phases that take the stack, the API, the direct target
    and the bench's --requests/--concurrency/--seconds): on a stack of its own, its table printed."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--requests", type=int, default=2000, help="sequential rounds")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0, help=seconds_help)
    args = parser.parse_args()
    with bench_stack() as (stack, api, _):
        direct, _gateway = direct_and_gateway(stack, api)
        lines = asyncio.run(phase(stack, api, direct, args))
    print(f"\naigw {title} benchmark ({os.cpu_count()} CPUs, mock provider, loopback)\n")
    print("\n".join(lines))


def direct_and_gateway(stack: Stack, api: Provisioned) -> tuple[Target, Target]:
    """The same chat completions, called on the mock provider and through the gateway."""
    direct = Target(
        f"{stack.url('mock_provider')}/production/v1/chat/completions",
        {"Authorization": "Bearer mock-provider-key"},
    )
    gateway = Target(
        f"{stack.url('gateway')}/{api.route_prefix}/v1/chat/completions",
        {"Authorization": f"Bearer {api.production_key}"},
    )
    return direct, gateway


@contextlib.contextmanager
def bench_stack(
    context: str = "benchapi", *, persist_store: bool = False
) -> Iterator[tuple[Stack, Provisioned, str]]:
    """The stack on free ports in a temporary folder, with the README's API provisioned on
    `context`: (the stack, the API, the admin's password). The store is in memory unless
    `persist_store` (a SQLite file, as make run keeps it: the soak's long runs)."""
    password = generate_master_key()
    with tempfile.TemporaryDirectory(prefix=f"aigw-{context}-") as tmp:
        config = StackConfig(
            data_dir=Path(tmp),
            secret_key=generate_master_key(),
            admin_password=password,
            ports=Ports.free(),
            persist_store=persist_store,
        )
        with Stack(config) as stack:
            yield stack, provision(stack, password, context), password


async def measure(
    stack: Stack, api: Provisioned, args: argparse.Namespace, password: str
) -> list[str]:
    direct, gateway = direct_and_gateway(stack, api)
    # revocation first, on a quiet system: the load phases below leave the embedded store busy
    # storing their usage records for a while, which would measure the store, not propagation
    revocations: list[str] = []
    if args.revocations:
        revocations = await revocation_propagation(stack, api, password, args.revocations)
    lines = report_latency(await sequential(direct, gateway, args.requests))
    lines += [""] + await token_quota_costs(stack, api, direct, gateway, args)
    lines += [""] + report_streaming(await streaming(direct, gateway, args.requests // 4))
    routed_api_ = await asyncio.to_thread(routed_api, stack, password)
    routed = Target(
        f"{stack.url('gateway')}/{routed_api_.route_prefix}/v1/chat/completions",
        {"Authorization": f"Bearer {routed_api_.production_key}"},
    )
    lines += [""] + await routed_costs(direct, gateway, routed, args.requests)
    lines += [""] + await throughput_costs(stack, direct, gateway, args)
    mint = await bench_token_minter(stack, api)
    lines += [""] + await credential_costs(gateway, mint, args.requests)
    from aigw.devtools.bench_guardrails import guardrail_costs  # it imports this module

    lines += [""] + await guardrail_costs(stack, direct, gateway, password, args.requests // 2)
    if revocations:
        lines += [""] + revocations
    lines += [""] + await _cache_phase(stack, password, direct, args)
    lines += [""] + await _access_log_phase(stack, api, direct, args)
    from aigw.devtools.bench_tracing import tracing_costs  # it imports this module

    lines += [""] + await tracing_costs(stack, api, direct, args)
    return lines + [""] + await client_costs(direct, args.requests)


async def _cache_phase(
    stack: Stack, password: str, direct: Target, args: argparse.Namespace
) -> list[str]:
    from aigw.devtools.bench_cache import cache_hit_costs  # it imports this module's helpers

    return await cache_hit_costs(stack, password, direct, args)


async def _access_log_phase(
    stack: Stack, api: Provisioned, direct: Target, args: argparse.Namespace
) -> list[str]:
    from aigw.devtools.bench_access_log import access_log_costs  # it imports this module

    return await access_log_costs(stack, api, direct, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="sequential pairs")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--revocations", type=int, default=50, help="keys revoked and timed (0: skip)"
    )
    args = parser.parse_args()
    with bench_stack() as (stack, api, password):
        lines = asyncio.run(measure(stack, api, args, password))
    print(f"\naigw gateway benchmark ({os.cpu_count()} CPUs, mock provider, loopback)\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
