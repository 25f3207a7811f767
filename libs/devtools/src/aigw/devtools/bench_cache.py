"""The response cache's phase of `make bench`: an exact-cache hit and a semantic-cache hit,
each interleaved with a direct provider call, in ms and × direct.

(bench.py imports this module when it runs the phase, so the helpers it shares come from there.)
Each cache gets its own API (provisioned the README way, then redeployed with its `cache`
by event). The semantic API's gateway embeds with the stack's local model: the gateway's
embedder remembers the vectors of recent texts, so a repeated prompt costs no embedding call
and the figure is the cache's own (key, partition, similarity over the partition's matrix,
replay); a new prompt adds one embedding call (about 15 ms with the local model).
"""

import argparse
import asyncio

import aiohttp
import nats

from aigw.common.events import ApiDeployed, Envelope
from aigw.common.messaging import STREAM_NAME
from aigw.common.response_cache import ResponseCache
from aigw.devtools import nats_auth
from aigw.devtools.bench import Target, ms, percentile, publish, times
from aigw.devtools.stack import Stack
from aigw.devtools.walkthrough import README_BODY, Provisioned, provision

CACHES = {
    "exact": ResponseCache(mode="exact", ttl_seconds=3600, scope="api"),
    "semantic": ResponseCache(mode="semantic", ttl_seconds=3600, threshold=0.9, scope="api"),
}


async def redeploy_with_cache(stack: Stack, cache: ResponseCache) -> None:
    """The last `aigw.api.deployed` (the API just provisioned) again, one revision on, with
    `cache`, signed as the publisher."""
    options = nats_auth.connect_options(stack.credentials, "provisioner")
    nc = await nats.connect(stack.nats_url, **options)
    try:
        msg = await nc.jetstream().get_last_msg(STREAM_NAME, ApiDeployed.TYPE)
    finally:
        await nc.close()
    deployed = ApiDeployed.from_envelope(Envelope.model_validate_json(msg.data or b""))
    await publish(stack, deployed.model_copy(update={"revision": deployed.revision + 1, "cache": cache}))  # fmt: skip


async def _until_hit(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
    for _ in range(400):
        async with session.post(url, data=README_BODY, headers=headers) as response:
            await response.read()
            if response.headers.get("x-aigw-cache") == "hit":
                return
        await asyncio.sleep(0.025)
    raise RuntimeError(f"{url}: never a cache hit")


async def cache_hit_costs(
    stack: Stack, password: str, direct: Target, args: argparse.Namespace
) -> list[str]:
    samples: dict[str, list[float]] = {"direct": []}
    targets = {}
    for mode, cache in CACHES.items():
        api: Provisioned = await asyncio.to_thread(provision, stack, password, f"bench{mode}")
        await redeploy_with_cache(stack, cache)
        targets[mode] = Target(
            f"{stack.url('gateway')}/{api.route_prefix}/v1/chat/completions",
            {"Authorization": f"Bearer {api.production_key}"},
        )
        samples[mode] = []
    async with aiohttp.ClientSession() as session:
        for target in targets.values():
            await _until_hit(session, target.url, target.headers)
        for _ in range(args.requests // 2):
            samples["direct"].append(await direct.call(session))
            for mode, target in targets.items():
                samples[mode].append(await target.call(session))
    base = percentile(samples["direct"], 0.5)
    rows = [
        "| response cache hit, interleaved | p50 ms | p99 ms | p50 × direct |",
        "|---|---|---|---|",
        f"| direct to provider | {ms(base)} | {ms(percentile(samples['direct'], 0.99))} | |",
    ]
    for mode in CACHES:
        p50 = percentile(samples[mode], 0.5)
        p99 = ms(percentile(samples[mode], 0.99))
        rows.append(f"| {mode}-cache hit (gateway) | {ms(p50)} | {p99} | {times(p50, base)} |")
    return rows
