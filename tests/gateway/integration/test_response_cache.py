"""The response cache on a running gateway and the session's NATS: exact hit and miss with
`x-aigw-cache`, a stream replayed from a cached answer, `no-cache`, scope application, the
usage records and metrics of a hit, a forged bucket entry ignored, and a hit on another
gateway process than the one that stored the answer."""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import nats.errors
import pytest
from pydantic import SecretStr

from aigw.common.crypto import sha256_hex
from aigw.common.events import (
    KeyIssued,
    PolicyUpdated,
    QuotaLimit,
    SubscriptionCreated,
    SubscriptionUpdated,
)
from aigw.common.messaging import CACHE_STREAM_NAME
from aigw.common.response_cache import ResponseCache
from aigw.gateway.cache.entry import encode
from aigw.gateway.cache.keys import cache_key
from aigw.gateway.cache.shared import subject_of
from aigw.gateway.invocation import Invocation
from aigw.gateway.routing.table import KeyEntry
from tests.support.bus import connected
from tests.support.gateway import (
    CHAT,
    PATH,
    Deployed,
    Events,
    RunningGateway,
    bearer,
    deploy_event,
    gateway_processes,
    metric,
    run_gateway,
    sse_data,
)
from tests.support.infra import Infra
from tests.support.usage import usage_tap
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CACHE = ResponseCache(mode="exact", ttl_seconds=300)


async def deploy_cached(
    events: Events, mock_provider: str, cache: ResponseCache = CACHE
) -> tuple[Deployed, str]:
    """An API with `cache`, one application with its key, and a second application's key."""
    unique = uuid.uuid4().hex[:8]
    api_id, prefix = f"api-{unique}", f"cached{unique}/1.0"
    deploy = deploy_event(events, api_id, prefix, mock_provider, unique, sandbox=False)
    payloads = [deploy.model_copy(update={"cache": cache})]
    for app in ("a", "b"):
        payloads += [
            SubscriptionCreated(
                subscription_id=f"sub-{app}{unique}",
                application_id=f"app-{app}{unique}",
                api_id=api_id,
                policy="Unlimited",
            ),
            KeyIssued(
                key_id=f"k{app}-{unique}",
                key_hash=sha256_hex(f"key-{app}{unique}"),
                application_id=f"app-{app}{unique}",
                key_type="PRODUCTION",
            ),
        ]
    await events.publish(*payloads)
    d = Deployed(api_id, prefix, f"app-a{unique}", f"key-a{unique}", "", unique)
    return d, f"key-b{unique}"


async def provider_calls(mock: httpx.AsyncClient, unique: str) -> int:
    return len([r for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]])


async def ready(gateway: RunningGateway, d: Deployed, *keys: str) -> None:
    await gateway.wait_route(d.prefix)
    table = gateway.app.state.table
    await gateway.wait_until(lambda: all(sha256_hex(k) in table.keys for k in keys))
    await gateway.app.cache.watching.wait()


def question(text: str) -> dict[str, object]:
    return {**CHAT, "messages": [{"role": "user", "content": text}]}


async def test_a_repeated_call_is_answered_from_the_cache_and_metered_as_a_hit(
    events, gateway, mock, mock_provider
):
    d, _ = await deploy_cached(events, mock_provider)
    await ready(gateway, d, d.production_key)
    url, body = f"/{d.prefix}{PATH}", question("What is a cache?")
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        first = await client.post(url, json=body, headers=bearer(d.production_key))
        assert (first.status_code, first.headers["x-aigw-cache"]) == (200, "miss")
        await gateway.wait_until(lambda: len(gateway.app.cache.index) >= 1)
        hit = await client.post(url, json=body, headers=bearer(d.production_key))
        assert (hit.status_code, hit.headers["x-aigw-cache"]) == (200, "hit")
        assert hit.json() == first.json()
        assert await provider_calls(mock, d.unique) == 1
        streamed = await client.post(
            url, json={**body, "stream": True}, headers=bearer(d.production_key)
        )
        assert streamed.headers["x-aigw-cache"] == "hit"
        assert streamed.headers["content-type"].startswith("text/event-stream")
        chunks = [json.loads(c) for c in sse_data(streamed.content) if c != "[DONE]"]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
        assert text == first.json()["choices"][0]["message"]["content"]
        assert sse_data(streamed.content)[-1] == "[DONE]"
        assert await provider_calls(mock, d.unique) == 1
        records = await tap.wait_for(3)
        metrics = (await client.get("/metrics")).text
    miss, *hits = sorted(records, key=lambda r: r.cache != "miss")
    assert (miss.cache, miss.cached, miss.tokens_saved) == ("miss", False, 0)
    for record in hits:
        assert (record.cache, record.cached, record.total_tokens) == ("hit", True, 0)
        assert record.tokens_saved == miss.total_tokens > 0
    line = f'aigw_gateway_cache_outcomes_total{{api="{d.label}",outcome="hit"}} 2.0'
    assert line in metrics


async def test_no_cache_bypasses_and_refreshes_and_another_application_misses(
    events, gateway, mock, mock_provider
):
    d, other_key = await deploy_cached(events, mock_provider)
    await ready(gateway, d, d.production_key, other_key)
    url, body = f"/{d.prefix}{PATH}", question("Scope me")
    async with gateway.client() as client:
        await client.post(url, json=body, headers=bearer(d.production_key))
        await gateway.wait_until(lambda: len(gateway.app.cache.index) >= 1)
        other = await client.post(url, json=body, headers=bearer(other_key))
        assert other.headers["x-aigw-cache"] == "miss"  # scope application: not shared
        fresh = await client.post(
            url, json=body, headers={**bearer(d.production_key), "Cache-Control": "no-cache"}
        )
        assert fresh.headers["x-aigw-cache"] == "bypass"
        assert await provider_calls(mock, d.unique) == 3
        again = await client.post(url, json=body, headers=bearer(d.production_key))
        assert again.headers["x-aigw-cache"] == "hit"
        failed = await client.post(
            url, json=question("fail"), headers={**bearer(d.production_key), "x-mock-status": "500"}
        )
        assert (failed.status_code, failed.headers["x-aigw-cache"]) == (500, "miss")
        retried = await client.post(url, json=question("fail"), headers=bearer(d.production_key))
        assert retried.headers["x-aigw-cache"] == "miss"  # an error is never stored


async def test_a_forged_entry_is_refused_by_the_server_or_ignored_by_the_gateway(
    events, gateway, mock_provider, infra: Infra
):
    d, _ = await deploy_cached(events, mock_provider)
    await ready(gateway, d, d.production_key)
    url, body = f"/{d.prefix}{PATH}", question("Forge me")
    cache = gateway.app.cache
    async with gateway.client() as client:
        await client.post(url, json=body, headers=bearer(d.production_key))
        key = key_of(gateway, d, body)
        await gateway.wait_until(lambda: cache.index.exact(key, 300))
        real = cache.index.exact(key, 300)
        assert real is not None
        value = encode(replace(real, body=real.body.replace(b"assistant", b"attacker")))
        subject = subject_of(key)
        # another service may not write the bucket at all...
        async with connected("publisher") as nc:
            with pytest.raises(nats.errors.Error):  # the server drops it: no ack
                await nc.jetstream(timeout=1).publish(subject, value, stream=CACHE_STREAM_NAME)
        # ...and a gateway's connection writing an entry signed by another identity is ignored
        before = cache.rejected["subject_not_allowed"]
        headers = infra.signer("publisher").headers(subject, value)
        async with connected("gateway") as nc:
            await nc.jetstream().publish(subject, value, stream=CACHE_STREAM_NAME, headers=headers)
        await gateway.wait_until(lambda: cache.rejected["subject_not_allowed"] > before)
        answer = await client.post(url, json=body, headers=bearer(d.production_key))
        assert answer.headers["x-aigw-cache"] == "miss"  # the provider, never the forgery
        assert b"attacker" not in answer.content


def key_of(gateway: RunningGateway, d: Deployed, body: dict[str, object]) -> str:
    """The bucket key of `body` sent to `d` by its first application's production key."""
    call = Invocation(0.0, "POST", "")
    call.api, call.rest, call.parsed = d.api_id, PATH, body
    call.route = gateway.app.state.table.api_routes[d.api_id]
    call.entry = KeyEntry("k", d.app_id, "PRODUCTION")
    key = cache_key(call, CACHE, "")
    assert key is not None
    return key.key


@pytest.fixture
def two_gateways(infra, secret_key, tmp_path: Path) -> Iterator[list[str]]:
    with gateway_processes(infra, secret_key, tmp_path, "cache-gw") as urls:
        yield urls


async def cache_entries(client: httpx.AsyncClient, url: str) -> float:
    return await metric(client, url, "aigw_gateway_cache_entries")


async def test_an_answer_stored_by_one_gateway_is_a_hit_on_another(
    events, two_gateways, mock, mock_provider
):
    d, _ = await deploy_cached(events, mock_provider)
    first_url, second_url = two_gateways
    body = question(f"Shared {d.unique}")
    async with httpx.AsyncClient(timeout=10) as client:
        first = await eventually(
            lambda: client.post(
                f"{first_url}/{d.prefix}{PATH}", json=body, headers=bearer(d.production_key)
            ),
            lambda r: r.status_code not in (401, 403, 404),
            interval=0.05,
            what="the first gateway serving the API",
        )
        assert first.headers["x-aigw-cache"] == "miss"
        await eventually(
            lambda: cache_entries(client, second_url),
            lambda n: n >= 1,
            what="the second gateway learning the entry",
        )
        hit = await eventually(
            lambda: client.post(
                f"{second_url}/{d.prefix}{PATH}", json=body, headers=bearer(d.production_key)
            ),
            lambda r: r.status_code not in (401, 403, 404),
            interval=0.05,
            what="the second gateway serving the API",
        )
        assert hit.headers["x-aigw-cache"] == "hit"
        assert hit.json() == first.json()
    assert await provider_calls(mock, d.unique) == 1


async def test_a_hit_consumes_a_request_of_the_quota(events, gateway, mock_provider):
    d, _ = await deploy_cached(events, mock_provider)
    plan = f"two-{d.unique}"
    await events.publish(
        PolicyUpdated(name=plan, limits=[QuotaLimit(unit="minute", requests=2)]),
        SubscriptionUpdated(
            subscription_id=f"sub-a{d.unique}",
            application_id=d.app_id,
            api_id=d.api_id,
            policy=plan,
        ),
    )
    await ready(gateway, d, d.production_key)
    table = gateway.app.state.table
    await gateway.wait_until(lambda: table.subscription_policies.get((d.app_id, d.api_id)) == plan)
    url, body = f"/{d.prefix}{PATH}", question("Count me")
    async with gateway.client() as client:
        await client.post(url, json=body, headers=bearer(d.production_key))
        await gateway.wait_until(
            lambda: gateway.app.cache.index.exact(key_of(gateway, d, body), 300)
        )
        hit = await client.post(url, json=body, headers=bearer(d.production_key))
        assert hit.headers["x-aigw-cache"] == "hit"
        third = await client.post(url, json=body, headers=bearer(d.production_key))
    assert third.status_code == 429  # the hit counted: a released admission would not have


async def test_a_streamed_answer_is_stored_and_served_to_a_json_request(
    events, gateway, mock, mock_provider
):
    d, _ = await deploy_cached(events, mock_provider)
    await ready(gateway, d, d.production_key)
    url, body = f"/{d.prefix}{PATH}", question("Stream me")
    async with gateway.client() as client:
        streamed = await client.post(
            url, json={**body, "stream": True}, headers=bearer(d.production_key)
        )
        assert streamed.headers["x-aigw-cache"] == "miss"
        chunks = [json.loads(c) for c in sse_data(streamed.content) if c != "[DONE]"]
        text = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
        )
        await gateway.wait_until(
            lambda: gateway.app.cache.index.exact(key_of(gateway, d, body), 300)
        )
        hit = await client.post(url, json=body, headers=bearer(d.production_key))
    assert hit.headers["x-aigw-cache"] == "hit"
    assert hit.json()["choices"][0]["message"]["content"] == text
    assert hit.json()["usage"]["total_tokens"] > 0  # the hidden usage chunk's counts
    assert await provider_calls(mock, d.unique) == 1


@pytest.fixture
async def semantic_gateway(gateway_settings, mock_provider) -> AsyncIterator[RunningGateway]:
    """A gateway whose embeddings endpoint is the mock provider's word-hashed `/v1/embeddings`
    (the plumbing is what is tested here; similarity quality is the embedding model's)."""
    settings = gateway_settings.model_copy(
        update={
            "embeddings_url": f"{mock_provider}/v1/embeddings",
            "embeddings_api_key": SecretStr("mock-provider-key"),
        }
    )
    async with run_gateway(settings) as running:
        yield running


async def test_semantic_hit_for_a_rephrasing_and_a_miss_in_another_conversation(
    events, semantic_gateway, mock, mock_provider
):
    gateway = semantic_gateway
    cache = ResponseCache(mode="semantic", ttl_seconds=300, threshold=0.9, scope="api")
    d, _ = await deploy_cached(events, mock_provider, cache)
    await ready(gateway, d, d.production_key)
    url = f"/{d.prefix}{PATH}"
    async with gateway.client() as client:
        first = await client.post(
            url, json=question("What is the capital of France?"), headers=bearer(d.production_key)
        )
        assert first.headers["x-aigw-cache"] == "miss"
        await gateway.wait_until(lambda: len(gateway.app.cache.index) >= 1)
        rephrased = question("the capital of France: what is it?")
        hit = await client.post(url, json=rephrased, headers=bearer(d.production_key))
        assert hit.headers["x-aigw-cache"] == "hit"
        assert hit.json() == first.json()
        other_turn = {
            **CHAT,
            "messages": [
                {"role": "user", "content": "Name a city in Texas"},
                {"role": "assistant", "content": "Paris, Texas."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
        }
        elsewhere = await client.post(url, json=other_turn, headers=bearer(d.production_key))
        assert elsewhere.headers["x-aigw-cache"] == "miss"
    assert await provider_calls(mock, d.unique) == 2
