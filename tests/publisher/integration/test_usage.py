"""Usage analytics: gateway batches from the stream, stored once per request, reported per API.

The module has a NATS of its own (conftest.py): batches are published to the publisher's
`settings.nats_url`."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigw.common.events import UsageRecorded
from aigw.common.messaging import USAGE_STREAM_NAME
from aigw.common.usage import store
from tests.support.bus import connected
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.tokens import TestSigner
from tests.support.usage import batch, counters, publish_batch, record
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

HOUR = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def usage_url(api_id: str) -> str:
    return f"{API_PREFIX}/apis/{api_id}/usage"


async def report(publisher: Publisher, api_id: str, **params: str) -> dict[str, Any]:
    response = await publisher.client.get(usage_url(api_id), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for_requests(
    publisher: Publisher, api_id: str, requests: int, **params: str
) -> dict[str, Any]:
    return await eventually(
        lambda: report(publisher, api_id, **params),
        lambda body: body["totals"]["requests"] >= requests,
        interval=0.05,
        what=f"{requests} requests in the usage report of {api_id}",
    )


def window(**params: str) -> dict[str, str]:
    return {
        "from": HOUR.isoformat(),
        "to": (HOUR + timedelta(hours=3)).isoformat(),
        **params,
    }


async def test_totals_and_groups_match_the_records_exactly(publisher: Publisher) -> None:
    api_id = (await publisher.create())["id"]
    other_api = str(uuid.uuid4())
    records = [
        record(
            api_id,
            "app-a",
            time=HOUR + timedelta(minutes=5),
            prompt_tokens=11,
            completion_tokens=29,
        ),
        record(
            api_id,
            "app-a",
            time=HOUR + timedelta(minutes=70),
            prompt_tokens=7,
            completion_tokens=3,
            served_model="mistral-large",
            stream=True,
            time_to_first_token_ms=80.0,
        ),
        record(
            api_id,
            "app-b",
            time=HOUR + timedelta(minutes=80),
            prompt_tokens=100,
            completion_tokens=0,
            status=429,
        ),
        record(other_api, "app-a", time=HOUR, prompt_tokens=1000),  # another API
        record(api_id, "app-a", time=HOUR - timedelta(minutes=1), prompt_tokens=5000),  # before
    ]
    await publish_batch(publisher.settings.nats_url, batch(*records))

    body = await wait_for_requests(publisher, api_id, 3, **window(groupBy="application"))
    assert body["apiId"] == api_id
    assert body["groupBy"] == "application"
    assert datetime.fromisoformat(body["from"]) == HOUR
    assert body["totals"] == counters(
        requests=3,
        promptTokens=118,
        completionTokens=32,
        totalTokens=150,
        served=2,
        refused=1,
    )
    assert body["groups"] == [
        counters(
            key="app-a",
            requests=2,
            promptTokens=18,
            completionTokens=32,
            totalTokens=50,
            served=2,
        ),
        counters(
            key="app-b",
            requests=1,
            promptTokens=100,
            completionTokens=0,
            totalTokens=100,
            refused=1,
        ),
    ]

    by_model = await report(publisher, api_id, **window(groupBy="model"))
    assert [(g["key"], g["totalTokens"]) for g in by_model["groups"]] == [
        ("mistral-large", 10),
        ("mistral-small-2409", 140),
    ]
    by_hour = await report(publisher, api_id, **window(groupBy="hour"))
    assert [(g["key"], g["requests"]) for g in by_hour["groups"]] == [
        ("2026-03-01T10:00:00Z", 1),
        ("2026-03-01T11:00:00Z", 2),
    ]
    assert by_hour["totals"] == body["totals"]


async def test_a_redelivered_batch_is_not_counted_twice(publisher: Publisher) -> None:
    api_id = (await publisher.create())["id"]
    url = publisher.settings.nats_url
    first = batch(
        record(api_id, "app", time=HOUR, prompt_tokens=3, completion_tokens=4),
        record(api_id, "app", time=HOUR, prompt_tokens=10, completion_tokens=20),
    )
    await publish_batch(url, first)
    await wait_for_requests(publisher, api_id, 2, **window())

    await publish_batch(url, first, redelivery=True)
    # the consumer reads in stream order: once this marker is in, the replay was handled
    marker = batch(record(api_id, "app", time=HOUR, prompt_tokens=1, completion_tokens=1))
    await publish_batch(url, marker)
    body = await wait_for_requests(publisher, api_id, 3, **window())
    assert body["totals"] == counters(
        requests=3,
        promptTokens=14,
        completionTokens=25,
        totalTokens=39,
        served=3,
    )
    assert await store.count_calls(publisher.app.state.runtime.db, api_id) == 3


async def test_a_batch_whose_consumer_died_before_its_rollups_is_counted_once(
    publisher: Publisher,
) -> None:
    """A consumer that stored a batch's records and died before counting them: the batch,
    redelivered, is counted then (and once, however often it comes again)."""
    api_id = (await publisher.create())["id"]
    url = publisher.settings.nats_url
    records = [record(api_id, "app", time=HOUR, prompt_tokens=5, status=s) for s in (200, 429)]
    died = batch(*records)
    batch_id = UsageRecorded.from_envelope(died).batch_id
    db = publisher.app.state.runtime.db
    await store._insert_new(db[store.CALLS], store.buckets(batch_id, records))

    await publish_batch(url, died, redelivery=True)
    await publish_batch(url, died, redelivery=True)
    marker = batch(record(api_id, "app", time=HOUR, prompt_tokens=1))
    await publish_batch(url, marker)  # in stream order: once it counts, the others did
    body = await wait_for_requests(publisher, api_id, 3, **window())
    assert body["totals"] == counters(
        requests=3, promptTokens=11, completionTokens=0, totalTokens=11, served=2, refused=1
    )


async def test_a_forged_usage_batch_is_not_stored(publisher: Publisher) -> None:
    """Usage on the gateway's own subject, but unsigned (a stolen connection without the
    gateway's event key): dropped, so nobody can inflate or fake an API's usage."""
    api_id = (await publisher.create())["id"]
    forged = batch(record(api_id, "app", time=HOUR, prompt_tokens=1000, completion_tokens=1000))
    async with connected("gateway", publisher.settings.nats_url) as nc:
        await nc.jetstream().publish(
            forged.type, forged.model_dump_json().encode(), stream=USAGE_STREAM_NAME
        )
    marker = batch(record(api_id, "app", time=HOUR, prompt_tokens=1, completion_tokens=1))
    await publish_batch(publisher.settings.nats_url, marker)
    body = await wait_for_requests(publisher, api_id, 1, **window())
    assert body["totals"]["promptTokens"] == 1
    assert await store.count_calls(publisher.app.state.runtime.db, api_id) == 1
    assert publisher.app.state.runtime.verifier.rejected["unsigned"] >= 1


async def test_an_api_without_usage_reports_zeros(publisher: Publisher) -> None:
    api_id = (await publisher.create())["id"]
    body = await report(publisher, api_id)
    assert body["groupBy"] == "model"
    assert body["groups"] == []
    assert body["totals"] == counters(
        requests=0,
        promptTokens=0,
        completionTokens=0,
        totalTokens=0,
    )
    assert datetime.fromisoformat(body["to"]) - datetime.fromisoformat(body["from"]) == (
        timedelta(days=30)
    )


async def test_usage_errors(publisher: Publisher, signer: TestSigner) -> None:
    api_id = (await publisher.create())["id"]
    client = publisher.client
    assert (await client.get(usage_url(str(uuid.uuid4())))).status_code == 404
    response = await client.get(usage_url(api_id), params={"groupBy": "colour"})
    assert response.status_code == 422
    backwards = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    assert (await client.get(usage_url(api_id), params=backwards)).status_code == 422
    as_subscriber = signer.auth("sam", ("subscriber",))
    assert (await client.get(usage_url(api_id), headers=as_subscriber)).status_code == 403
    as_publisher = signer.auth("pat", ("publisher",))  # the admin's API, not pat's
    assert (await client.get(usage_url(api_id), headers=as_publisher)).status_code == 404


async def test_the_report_counts_cache_hits_misses_tokens_saved_and_interventions(
    publisher: Publisher,
) -> None:
    """Records as a gateway with a cache and guardrails writes them: a hit spends no tokens
    and says what it saved, a request-side intervention none either, a response-side one
    was paid for."""
    api_id = (await publisher.create())["id"]
    at = HOUR + timedelta(minutes=5)
    records = [
        record(api_id, "app-a", time=at, cache="miss", prompt_tokens=30, completion_tokens=10),
        record(api_id, "app-a", time=at, cache="hit", cached=True, tokens_saved=40),
        record(api_id, "app-a", time=at, cache="hit", cached=True, tokens_saved=40),
        record(api_id, "app-b", time=at, cache="bypass", prompt_tokens=30, completion_tokens=9),
        record(
            api_id,
            "app-b",
            time=at,
            status=446,
            guardrail="no-secrets",
            guardrail_direction="REQUEST",
        ),
        record(
            api_id,
            "app-b",
            time=at,
            status=446,
            cache="miss",
            guardrail="json-answers",
            guardrail_direction="RESPONSE",
            prompt_tokens=8,
            completion_tokens=2,
        ),
    ]
    await publish_batch(publisher.settings.nats_url, batch(*records))

    body = await wait_for_requests(publisher, api_id, 6, **window(groupBy="application"))
    assert body["totals"] == counters(
        requests=6,
        promptTokens=68,
        completionTokens=21,
        totalTokens=89,
        cacheHits=2,
        cacheMisses=2,
        cacheBypasses=1,
        tokensSaved=80,
        guardrailInterventions=2,
        served=4,
        refused=2,
    )
    assert body["groups"] == [
        counters(
            key="app-a",
            requests=3,
            promptTokens=30,
            completionTokens=10,
            totalTokens=40,
            cacheHits=2,
            cacheMisses=1,
            tokensSaved=80,
            served=3,
        ),
        counters(
            key="app-b",
            requests=3,
            promptTokens=38,
            completionTokens=11,
            totalTokens=49,
            cacheMisses=1,
            cacheBypasses=1,
            guardrailInterventions=2,
            served=1,
            refused=2,
        ),
    ]
    subject = {"api_id": api_id}
    match = {**subject, "guardrail": "no-secrets"}
    (stored,) = await store.calls(publisher.app.state.runtime.db, subject, match, None, 2)
    assert stored["guardrail_direction"] == "REQUEST"
