"""An API's calls one by one (`GET /apis/{id}/usage/calls`): newest first, filtered, paged to
the end without repeats or gaps, named, and only for the API's owners."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigw.common.events import ApplicationCreated
from aigw.common.usage.store import to_doc
from tests.support.bus import emitted
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.tokens import TestSigner
from tests.support.usage import batch, publish_batch, record
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def calls_url(api_id: str) -> str:
    return f"{API_PREFIX}/apis/{api_id}/usage/calls"


async def calls(publisher: Publisher, api_id: str, **params: Any) -> dict[str, Any]:
    response = await publisher.client.get(calls_url(api_id), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["count"] == len(body["list"])
    return body


async def all_pages(publisher: Publisher, api_id: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a query, following `nextCursor` to the end (from `cursor`, if given)."""
    seen: list[dict[str, Any]] = []
    for _ in range(100):
        page = await calls(publisher, api_id, **params)
        seen += page["list"]
        params["cursor"] = page["nextCursor"]
        if params["cursor"] is None:
            return seen
    raise AssertionError("the pages never ended")


async def stored(publisher: Publisher, api_id: str, count: int) -> None:
    await eventually(
        lambda: calls(publisher, api_id, limit=200),
        lambda body: body["count"] >= count,
        interval=0.05,
        timeout=60,  # the session's other tests' usage batches share the consumer on a busy CI
        what=f"{count} calls of {api_id}",
    )


async def test_pages_hold_every_call_once_newest_first(publisher: Publisher) -> None:
    api_id = (await publisher.create())["id"]
    # 23 calls, several in one millisecond (the record id orders those)
    times = [START + timedelta(seconds=i // 3) for i in range(23)]
    records = [record(api_id, "app-a", time=t, prompt_tokens=i) for i, t in enumerate(times)]
    records.append(record(str(uuid.uuid4()), "app-a", time=START))  # another API's
    await publish_batch(publisher.settings.nats_url, batch(*records))
    await stored(publisher, api_id, 23)

    paged = await all_pages(publisher, api_id, limit=4)
    ids = [call["requestId"] for call in paged]
    assert len(ids) == 23
    assert sorted(ids) == sorted(r.request_id for r in records[:23])  # no repeats, no gaps
    keys = [(datetime.fromisoformat(c["time"]), c["recordId"]) for c in paged]
    assert keys == sorted(keys, reverse=True)  # newest first, ties by record id
    assert len(await all_pages(publisher, api_id, limit=23)) == 23  # one full page: then null
    assert (await calls(publisher, api_id, limit=23))["nextCursor"] is None

    # calls arriving while paging do not shift the pages already handed out
    first = await calls(publisher, api_id, limit=5)
    newer = record(api_id, "app-a", time=START + timedelta(hours=1))
    await publish_batch(publisher.settings.nats_url, batch(newer))
    await stored(publisher, api_id, 24)
    rest = await all_pages(publisher, api_id, limit=5, cursor=first["nextCursor"])
    assert [c["requestId"] for c in first["list"] + rest] == ids


async def test_filters_combine(publisher: Publisher) -> None:
    api_id = (await publisher.create())["id"]
    at = START + timedelta(minutes=5)
    records = [
        record(api_id, "app-a", time=at, status=200, prompt_tokens=5, completion_tokens=7),
        record(api_id, "app-a", time=at, status=429, key_type="SANDBOX"),
        record(api_id, "app-b", time=at, status=401),
        record(api_id, "app-b", time=at, status=446, guardrail="g", guardrail_direction="REQUEST"),
        record(api_id, "app-b", time=at, status=499, served_model="mistral-large"),
        record(api_id, "app-b", time=at, status=502, served_model=None, requested_model=None),
        record(api_id, "app-a", time=at + timedelta(hours=2), status=200, estimated=True),
    ]
    await publish_batch(publisher.settings.nats_url, batch(*records))
    await stored(publisher, api_id, len(records))

    async def statuses(**params: Any) -> list[int]:
        return sorted(c["status"] for c in (await calls(publisher, api_id, **params))["list"])

    assert await statuses(status="429") == [429]
    assert await statuses(status="4xx") == [401, 429, 446, 499]
    assert await statuses(outcome="refused") == [401, 429, 446]
    assert await statuses(outcome="abandoned") == [499]
    assert await statuses(outcome="error") == [502]
    assert await statuses(outcome="served") == [200, 200]
    # a record stored before request ids existed: listed, with none
    old = {**to_doc(record(api_id, "app-a", time=START, status=204)), "_id": uuid.uuid4().hex}
    old.pop("request_id")
    await publisher.app.state.runtime.db["usage"].insert_one(old)
    (older,) = (await calls(publisher, api_id, status="204"))["list"]
    assert (older["requestId"], older["recordId"]) == (None, old["_id"])
    assert await statuses(status="4xx", outcome="refused", keyType="SANDBOX") == [429]
    assert await statuses(model="mistral-large") == [499]
    assert await statuses(model="unknown") == [502]  # neither model known
    assert await statuses(
        **{"from": at.isoformat(), "to": (at + timedelta(hours=1)).isoformat()}
    ) == [
        200,
        401,
        429,
        446,
        499,
        502,
    ]
    assert await statuses(requestId=records[3].request_id) == [446]
    assert await statuses(requestId="no-such-call") == []
    # a caller may send one x-request-id twice: both calls are found by it
    again = record(api_id, "app-a", time=at, status=201, request_id=records[3].request_id)
    await publish_batch(publisher.settings.nats_url, batch(again))
    await stored(publisher, api_id, len(records) + 1)
    assert await statuses(requestId=records[3].request_id) == [201, 446]

    (call,) = (await calls(publisher, api_id, requestId=records[0].request_id))["list"]
    assert call["outcome"] == "served"
    assert call["totalTokens"] == 12
    assert call["estimated"] is False
    (estimated,) = (
        await calls(publisher, api_id, **{"from": (at + timedelta(hours=1)).isoformat()})
    )["list"]
    assert estimated["estimated"] is True
    (intervened,) = (await calls(publisher, api_id, status="446"))["list"]
    assert (intervened["guardrail"], intervened["guardrailDirection"]) == ("g", "REQUEST")


async def test_calls_and_groups_carry_the_application_and_api_names(publisher: Publisher) -> None:
    created = await publisher.create()
    api_id, app_id = created["id"], str(uuid.uuid4())
    await publisher.publish(
        emitted(ApplicationCreated(application_id=app_id, name="Weather bot", owner="al"))
    )
    await publish_batch(
        publisher.settings.nats_url,
        batch(record(api_id, app_id, time=START), record(api_id, "unnamed-app", time=START)),
    )
    await stored(publisher, api_id, 2)

    async def named() -> dict[str, str | None]:
        body = await calls(publisher, api_id)
        return {c["applicationId"]: c["applicationName"] for c in body["list"]}

    names = await eventually(named, lambda found: found.get(app_id) == "Weather bot", interval=0.05)
    assert names["unnamed-app"] is None
    (call, *_) = (await calls(publisher, api_id))["list"]
    assert call["apiName"] == f"{created['name']} {created['version']}"

    window = {"from": START.isoformat(), "to": (START + timedelta(hours=1)).isoformat()}
    response = await publisher.client.get(
        f"{API_PREFIX}/apis/{api_id}/usage", params={**window, "groupBy": "application"}
    )
    groups = {g["key"]: g["name"] for g in response.json()["groups"]}
    assert groups == {app_id: "Weather bot", "unnamed-app": None}


async def test_the_report_groups_by_status_and_counts_outcomes(publisher: Publisher) -> None:
    api_id = (await publisher.create())["id"]
    statuses = [200, 200, 429, 446, 499, 502]
    records = [record(api_id, "app", time=START, status=s, estimated=s == 502) for s in statuses]
    await publish_batch(publisher.settings.nats_url, batch(*records))
    await stored(publisher, api_id, len(records))
    window = {"from": START.isoformat(), "to": (START + timedelta(hours=1)).isoformat()}
    # the report reads the rollups, written just after the records `stored` waited for
    response = await eventually(
        lambda: publisher.client.get(
            f"{API_PREFIX}/apis/{api_id}/usage", params={**window, "groupBy": "status"}
        ),
        lambda r: r.json()["totals"]["requests"] == len(records),
    )
    body = response.json()
    assert [(g["key"], g["requests"]) for g in body["groups"]] == [
        ("200", 2),
        ("429", 1),
        ("446", 1),
        ("499", 1),
        ("502", 1),
    ]
    outcomes = {name: body["totals"][name] for name in ("served", "refused", "abandoned")}
    assert outcomes == {"served": 2, "refused": 2, "abandoned": 1}
    assert (body["totals"]["errors"], body["totals"]["estimated"]) == (1, 1)
    assert body["totals"]["requests"] == 6


async def test_access_and_bad_queries(publisher: Publisher, signer: TestSigner) -> None:
    api_id = (await publisher.create())["id"]
    client, url = publisher.client, calls_url(api_id)
    assert (await client.get(calls_url(str(uuid.uuid4())))).status_code == 404
    as_publisher = signer.auth("pat", ("publisher",))  # the admin's API, not pat's
    assert (await client.get(url, headers=as_publisher)).status_code == 404
    as_subscriber = signer.auth("sam", ("subscriber",))
    assert (await client.get(url, headers=as_subscriber)).status_code == 403
    assert (await client.get(url, headers={"Authorization": "Bearer nope"})).status_code == 401

    unknown = await client.get(url, params={"colour": "blue", "stauts": "429"})
    assert unknown.status_code == 422
    assert "colour" in unknown.json()["description"]
    assert "stauts" in unknown.json()["description"]
    for bad in (
        {"cursor": "not-a-cursor"},
        {"cursor": "YTE6MTIz"},  # the audit trail's kind
        {"limit": "0"},
        {"limit": "201"},
        {"status": "4x"},
        {"outcome": "lost"},
        {"keyType": "STAGING"},
        {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        {"from": "yesterday"},
    ):
        response = await client.get(url, params=bad)
        assert response.status_code == 422, (bad, response.text)
    assert (await calls(publisher, api_id, limit=200))["list"] == []
