"""An application's usage, from the gateways' batches on the stream; owners only."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.devportal import wait_until
from tests.support.infra import Infra
from tests.support.usage import batch, counters, publish_batch, record

pytestmark = pytest.mark.integration

HOUR = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
WINDOW = {"from": HOUR.isoformat(), "to": (HOUR + timedelta(hours=2)).isoformat()}


@pytest.fixture
async def app_id(devportal: httpx.AsyncClient) -> str:
    response = await devportal.post("/applications", json={"name": "usage-app"})
    return str(response.json()["id"])


async def usage(client: httpx.AsyncClient, app_id: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"/applications/{app_id}/usage", params={**WINDOW, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_for_requests(client: httpx.AsyncClient, app_id: str, requests: int) -> None:
    async def arrived() -> bool:
        return (await usage(client, app_id))["totals"]["requests"] >= requests

    await wait_until(arrived, timeout=10)


async def test_totals_per_api_match_the_records_and_replays_count_once(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str
) -> None:
    api_a, api_b = str(uuid.uuid4()), str(uuid.uuid4())
    first = batch(
        record(api_a, app_id, time=HOUR, prompt_tokens=12, completion_tokens=30),
        record(
            api_b,
            app_id,
            time=HOUR + timedelta(minutes=61),
            prompt_tokens=5,
            completion_tokens=1,
            key_type="SANDBOX",
        ),
        record(api_a, "another-app", time=HOUR, prompt_tokens=999),
    )
    await publish_batch(infra.nats_url, first)
    await wait_for_requests(devportal, app_id, 2)

    await publish_batch(infra.nats_url, first, redelivery=True)
    marker = batch(record(api_a, app_id, time=HOUR, prompt_tokens=1, completion_tokens=2))
    await publish_batch(infra.nats_url, marker)
    await wait_for_requests(devportal, app_id, 3)

    body = await usage(devportal, app_id, groupBy="api")
    assert body["applicationId"] == app_id
    assert body["totals"] == counters(
        requests=3,
        promptTokens=18,
        completionTokens=33,
        totalTokens=51,
        served=3,
    )
    expected = {
        api_a: counters(
            key=api_a,
            requests=2,
            promptTokens=13,
            completionTokens=32,
            totalTokens=45,
            served=2,
        ),
        api_b: counters(
            key=api_b,
            requests=1,
            promptTokens=5,
            completionTokens=1,
            totalTokens=6,
            served=1,
        ),
    }
    assert body["groups"] == sorted(expected.values(), key=lambda g: g["key"])
    by_hour = await usage(devportal, app_id, groupBy="hour")
    assert [(g["key"], g["totalTokens"]) for g in by_hour["groups"]] == [
        ("2026-03-01T10:00:00Z", 45),
        ("2026-03-01T11:00:00Z", 6),
    ]


async def test_an_applications_report_counts_its_cache_hits_and_interventions(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str
) -> None:
    api = str(uuid.uuid4())
    records = [
        record(api, app_id, time=HOUR, cache="hit", cached=True, tokens_saved=25),
        record(api, app_id, time=HOUR, cache="miss", prompt_tokens=20, completion_tokens=5),
        record(api, app_id, time=HOUR, status=446, guardrail="g", guardrail_direction="REQUEST"),
        record(api, "another-app", time=HOUR, cache="hit", tokens_saved=1000),
    ]
    await publish_batch(infra.nats_url, batch(*records))
    await wait_for_requests(devportal, app_id, 3)

    body = await usage(devportal, app_id, groupBy="api")
    expected = counters(
        requests=3,
        promptTokens=20,
        completionTokens=5,
        totalTokens=25,
        cacheHits=1,
        cacheMisses=1,
        tokensSaved=25,
        guardrailInterventions=1,
        served=2,
        refused=1,
    )
    assert body["totals"] == expected
    assert body["groups"] == [{**expected, "key": api, "name": None}]


async def test_someone_elses_application_is_404(
    devportal: httpx.AsyncClient, app_id: str, bob: dict[str, str]
) -> None:
    response = await devportal.get(f"/applications/{app_id}/usage", headers=bob)
    assert response.status_code == 404
    assert (await devportal.get(f"/applications/{uuid.uuid4()}/usage")).status_code == 404


async def test_bad_windows_and_groupings_are_422(devportal: httpx.AsyncClient, app_id: str) -> None:
    url = f"/applications/{app_id}/usage"
    assert (await devportal.get(url, params={"groupBy": "application"})).status_code == 422
    backwards = {"from": WINDOW["to"], "to": WINDOW["from"]}
    assert (await devportal.get(url, params=backwards)).status_code == 422
    assert (await devportal.get(url, params={"from": "yesterday"})).status_code == 422
