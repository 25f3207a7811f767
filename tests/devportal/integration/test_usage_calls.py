"""An application's calls one by one (`GET /applications/{id}/usage/calls`): newest first,
filtered, paged to the end without repeats or gaps, named, and only for its owner."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from aigw.common.events import ApiPublished
from tests.support.bus import emitted, publish
from tests.support.infra import Infra
from tests.support.usage import batch, publish_batch, record
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
async def app_id(devportal: httpx.AsyncClient) -> str:
    response = await devportal.post("/applications", json={"name": "calls-app"})
    return str(response.json()["id"])


async def calls(client: httpx.AsyncClient, app_id: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/applications/{app_id}/usage/calls", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["count"] == len(body["list"])
    return body


async def stored(client: httpx.AsyncClient, app_id: str, count: int) -> None:
    await eventually(
        lambda: calls(client, app_id, limit=200),
        lambda body: body["count"] >= count,
        interval=0.05,
        what=f"{count} calls of {app_id}",
    )


async def test_pages_to_the_end_without_repeats_or_gaps(
    devportal: httpx.AsyncClient, infra: Infra, app_id: str
) -> None:
    api = str(uuid.uuid4())
    records = [
        record(api, app_id, time=START + timedelta(milliseconds=i // 4), prompt_tokens=i)
        for i in range(17)
    ]
    records.append(record(api, "another-app", time=START))
    await publish_batch(infra.nats_url, batch(*records))
    await stored(devportal, app_id, 17)

    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 5}
    pages = 0
    while True:
        page = await calls(devportal, app_id, **params)
        pages += 1
        seen += page["list"]
        if page["nextCursor"] is None:
            break
        params["cursor"] = page["nextCursor"]
    assert pages == 4
    ids = [c["requestId"] for c in seen]
    assert sorted(ids) == sorted(r.request_id for r in records[:17])
    keys = [(datetime.fromisoformat(c["time"]), c["recordId"]) for c in seen]
    assert keys == sorted(keys, reverse=True)
    assert all(c["applicationName"] == "calls-app" for c in seen)
    assert {c["applicationId"] for c in seen} == {app_id}


async def test_filters_and_names(devportal: httpx.AsyncClient, infra: Infra, app_id: str) -> None:
    api = str(uuid.uuid4())
    listing = {
        "api_id": api,
        "name": "WeatherAPI",
        "context": "weather",
        "version": "1.0.0",
        "vendor": {"name": "MistralAI", "version": "1.0.0"},
        "route_prefix": "/weather/1.0.0",
    }
    await publish(emitted(ApiPublished.model_validate(listing)), url=infra.nats_url)
    records = [
        record(api, app_id, time=START, status=200),
        record(api, app_id, time=START, status=429, key_type="SANDBOX"),
        record(api, app_id, time=START, status=499),
        record(api, app_id, time=START, status=504, served_model="mistral-large"),
    ]
    await publish_batch(infra.nats_url, batch(*records))
    await stored(devportal, app_id, 4)

    async def statuses(**params: Any) -> list[int]:
        return sorted(c["status"] for c in (await calls(devportal, app_id, **params))["list"])

    assert await statuses(outcome="refused") == [429]
    assert await statuses(outcome="abandoned") == [499]
    assert await statuses(status="5xx") == [504]
    assert await statuses(keyType="PRODUCTION") == [200, 499, 504]
    assert await statuses(model="mistral-large") == [504]
    assert await statuses(requestId=records[1].request_id) == [429]
    later = {"from": (START + timedelta(seconds=1)).isoformat()}
    assert await statuses(**later) == []

    async def api_names() -> set[str | None]:
        return {c["apiName"] for c in (await calls(devportal, app_id))["list"]}

    await eventually(api_names, {"WeatherAPI 1.0.0"}, interval=0.05)
    window = {"from": START.isoformat(), "to": (START + timedelta(hours=1)).isoformat()}
    response = await devportal.get(
        f"/applications/{app_id}/usage", params={**window, "groupBy": "api"}
    )
    (group,) = response.json()["groups"]
    assert (group["key"], group["name"]) == (api, "WeatherAPI 1.0.0")
    assert (group["served"], group["refused"], group["abandoned"], group["errors"]) == (1, 1, 1, 1)
    by_status = await devportal.get(
        f"/applications/{app_id}/usage", params={**window, "groupBy": "status"}
    )
    assert [g["key"] for g in by_status.json()["groups"]] == ["200", "429", "499", "504"]


async def test_someone_elses_application_is_404_and_bad_queries_422(
    devportal: httpx.AsyncClient, app_id: str, bob: dict[str, str]
) -> None:
    url = f"/applications/{app_id}/usage/calls"
    assert (await devportal.get(url, headers=bob)).status_code == 404
    assert (await devportal.get(f"/applications/{uuid.uuid4()}/usage/calls")).status_code == 404
    unknown = await devportal.get(url, params={"apiId": "x", "groupBy": "model"})
    assert unknown.status_code == 422
    assert "apiId" in unknown.json()["description"]
    assert "groupBy" in unknown.json()["description"]
    for bad in ({"cursor": "Zm9v"}, {"limit": "500"}, {"status": "700"}, {"outcome": "x"}):
        assert (await devportal.get(url, params=bad)).status_code == 422, bad
    assert (await calls(devportal, app_id)) == {"count": 0, "list": [], "nextCursor": None}
