"""The bench's guardrail phases (`make bench` runs them; `python -m
aigw.devtools.bench_guardrails` runs only them, on a stack of its own): the latency a regex
guardrail (request and response), PII masking (mask and restore) and an incremental response
guardrail on a stream's time to first token add, against calling the mock provider directly.

Guardrails are deployed by event (a later revision of a provisioned API), as the publisher
sends them, so this does not depend on how the publisher's REST API spells them."""

import argparse
import asyncio
import os
import re
import statistics
import time
from typing import Any

import aiohttp
from pydantic import TypeAdapter

from aigw.common.crypto import SecretBox, provider_key_context
from aigw.common.events import ApiDeployed, DeployedEndpoint
from aigw.common.guardrails import Guardrail
from aigw.common.vendors import builtin_spec
from aigw.devtools.bench import (
    BODY,
    STREAM_BODY,
    Target,
    bench_stack,
    direct_and_gateway,
    ms,
    percentile,
    publish,
    times,
)
from aigw.devtools.stack import Stack
from aigw.devtools.walkthrough import Provisioned, provision

PII_BODY = (
    b'{"model":"mistral-small-latest","messages":[{"role":"user",'
    b'"content":"Write to ann@example.org about the most renowned French painter"}]}'
)
REGEX = {"type": "REGEX_GUARDRAIL", "name": "deny", "flow": "both", "params": {"regex": r"(?i)ignore (all )?previous instructions|BENCHPROBE", "invert": True}}  # fmt: skip
PII = {"type": "PII_MASKING_REGEX", "name": "pii", "params": {"piiEntities": [{"piiEntity": "EMAIL", "piiRegex": r"[\w.+-]+@[\w-]+\.[\w.]+"}]}}  # fmt: skip
PROBE = b'{"model":"m","messages":[{"role":"user","content":"BENCHPROBE"}]}'
_TEXT = re.compile(rb'"content": ?"[^"]')  # a delta with generated text
_GUARDRAILS: TypeAdapter[list[Any]] = TypeAdapter(list[Guardrail])


async def guard(stack: Stack, api: Provisioned, guardrails: list[dict[str, Any]]) -> None:
    """Deploy `api` again (revision 2) with `guardrails`."""
    mock = stack.url("mock_provider")
    box = SecretBox(stack.config.secret_key)
    spec = builtin_spec("MistralAI", "v1")
    assert spec is not None

    def endpoint(name: str, key: str) -> DeployedEndpoint:
        url = f"{mock}/{name}"
        return DeployedEndpoint(url=url, api_key_ciphertext=box.encrypt(key, provider_key_context(api.api_id, name, url)))  # fmt: skip

    context, version = api.route_prefix.split("/")
    await publish(
        stack,
        ApiDeployed(
            api_id=api.api_id,
            revision=2,
            name=context,
            version=version,
            route_prefix=api.route_prefix,
            vendor=spec,
            production=endpoint("production", "mock-provider-key"),
            sandbox=endpoint("sandbox", "mock-sandbox-key"),
            guardrails=_GUARDRAILS.validate_python(guardrails),
        ),
    )


async def until(target: Target, body: bytes, status: int) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            async with session.post(target.url, data=body, headers=target.headers) as response:
                await response.read()
                if response.status == status:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{target.url} never answered {status}")


async def stream_first(target: Target, session: aiohttp.ClientSession) -> float:
    """Time to the first chunk that carries generated text."""
    start = time.perf_counter()
    first = 0.0
    async with session.post(target.url, data=STREAM_BODY, headers=target.headers) as response:
        async for chunk in response.content.iter_any():
            if not first and _TEXT.search(chunk):
                first = time.perf_counter() - start
    return first


async def latency_rows(targets: dict[str, tuple[Target, bytes]], n: int) -> list[str]:
    samples: dict[str, list[float]] = {name: [] for name in targets}
    async with aiohttp.ClientSession() as session:
        for _ in range(50):
            for target, body in targets.values():
                await target.call(session, body)
        for _ in range(n):
            for name, (target, body) in targets.items():
                samples[name].append(await target.call(session, body))
    rows = [
        "| guardrails, sequential, non-streaming | p50 ms | p99 ms | mean ms | added p50 ms | p50 × direct |",
        "|---|---|---|---|---|---|",
    ]  # fmt: skip
    for name, s in samples.items():
        base = samples["direct (PII prompt)" if "PII" in name else "direct"]
        p50, b50 = percentile(s, 0.5), percentile(base, 0.5)
        rows.append(
            f"| {name} | {ms(p50)} | {ms(percentile(s, 0.99))} | {ms(statistics.mean(s))} "
            f"| {ms(p50 - b50)} | {times(p50, b50)} |"
        )
    return rows


async def ttft_rows(targets: dict[str, Target], n: int) -> list[str]:
    samples: dict[str, list[float]] = {name: [] for name in targets}
    async with aiohttp.ClientSession() as session:
        for _ in range(10):
            for target in targets.values():
                await stream_first(target, session)
        for _ in range(n):
            for name, target in targets.items():
                samples[name].append(await stream_first(target, session))
    base = percentile(samples["direct"], 0.5)
    rows = [
        "| streaming, time to first token | p50 ms | p99 ms | p50 × direct |",
        "|---|---|---|---|",
    ]
    for name, s in samples.items():
        rows.append(f"| {name} | {ms(percentile(s, 0.5))} | {ms(percentile(s, 0.99))} | {times(percentile(s, 0.5), base)} |")  # fmt: skip
    return rows


async def guardrail_costs(stack: Stack, direct: Target, gateway: Target, password: str, n: int) -> list[str]:  # fmt: skip
    regex_api = await asyncio.to_thread(provision, stack, password, "benchregex")
    pii_api = await asyncio.to_thread(provision, stack, password, "benchpii")
    await guard(stack, regex_api, [REGEX])
    await guard(stack, pii_api, [{**REGEX, "flow": "request"}, PII])  # the probe only
    regex = direct_and_gateway(stack, regex_api)[1]
    pii = direct_and_gateway(stack, pii_api)[1]
    await until(regex, PROBE, 446)
    await until(pii, PROBE, 446)
    targets = {
        "direct": (direct, BODY),
        "gateway, no guardrail": (gateway, BODY),
        "gateway, regex on request and response": (regex, BODY),
        "direct (PII prompt)": (direct, PII_BODY),
        "gateway, no guardrail (PII prompt)": (gateway, PII_BODY),
        "gateway, PII masked and restored (PII prompt)": (pii, PII_BODY),
    }
    rows = await latency_rows(targets, n)
    streams = {"direct": direct, "gateway, no guardrail": gateway, "gateway, incremental regex on the answer": regex}  # fmt: skip
    return [*rows, "", *await ttft_rows(streams, max(50, n // 4))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="sequential rounds")
    args = parser.parse_args()
    with bench_stack() as (stack, api, password):
        direct, gateway = direct_and_gateway(stack, api)
        lines = asyncio.run(guardrail_costs(stack, direct, gateway, password, args.requests))
    print(f"\naigw guardrail benchmark ({os.cpu_count()} CPUs, mock provider, loopback)\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
