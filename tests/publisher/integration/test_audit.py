"""The audit trail: publisher folds the events stream into its projection and answers
`GET /api/audit/v1/events`: filters, paging, access per role, export, rebuild from the stream.

The module has a NATS of its own (conftest.py): the events published here go to the publisher's
`settings.nats_url`, not to the session's."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from aigw.common.events import (
    ApplicationCreated,
    Envelope,
    KeyIssued,
    KeyRevoked,
    OAuthClientCreated,
    OAuthClientRevoked,
    PolicyUpdated,
    SubscriptionCreated,
    TokenRevoked,
)
from aigw.publisher.audit.repository import COLLECTIONS, EVENTS
from tests.support.bus import connected, emitted
from tests.support.infra import Infra
from tests.support.publisher import API_PREFIX, Publisher, running_publisher
from tests.support.tokens import TestSigner
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

AUDIT = "/api/audit/v1/events"


async def trail(
    publisher: Publisher, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    response = await publisher.client.get(AUDIT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def settled(publisher: Publisher, count: int, **params: Any) -> list[dict[str, Any]]:
    """The admin's view of the trail under `params` once it holds `count` events."""
    body = await eventually(
        lambda: trail(publisher, limit=500, **params),
        lambda body: body["count"] >= count,
        what=f"{count} audit events for {params}",
        ignoring=(AssertionError,),
    )
    events: list[dict[str, Any]] = body["list"]
    return events


def application_history(owner: str, correlation_id: str) -> tuple[str, list[Envelope]]:
    """An application of `owner` and everything that happens to it, as the services emit it."""
    app_id, key_id, client_id = (uuid.uuid4().hex for _ in range(3))
    payloads = [
        ApplicationCreated(application_id=app_id, name="audited", owner=owner),
        SubscriptionCreated(
            subscription_id=uuid.uuid4().hex, application_id=app_id, api_id="api", policy="Gold"
        ),
        KeyIssued(key_id=key_id, key_hash="0" * 64, application_id=app_id, key_type="SANDBOX"),
        KeyRevoked(key_id=key_id),  # names only the key: its application comes from the issue
        OAuthClientCreated(client_id=client_id, application_id=app_id, key_type="PRODUCTION"),
        TokenRevoked(jti=uuid.uuid4().hex, client_id=client_id, expires_at=datetime.now(UTC)),
        OAuthClientRevoked(client_id=client_id),
    ]
    events = [emitted(p, actor=owner, correlation_id=correlation_id) for p in payloads]
    return app_id, events


async def test_an_apis_history_newest_first_as_published(publisher: Publisher) -> None:
    correlation = f"audit-{uuid.uuid4().hex}"
    created = await publisher.client.post(
        f"{API_PREFIX}/apis", json=publisher.body(), headers={"X-Correlation-ID": correlation}
    )
    api_id = created.json()["id"]
    patched = await publisher.client.patch(
        f"{API_PREFIX}/apis/{api_id}",
        json={"description": "changed"},
        headers={"X-Correlation-ID": correlation},
    )
    assert patched.status_code == 200, patched.text
    history = await settled(publisher, 2, subject=api_id)
    assert [e["type"] for e in history] == ["aigw.api.updated", "aigw.api.created"]
    for event in history:
        assert event["source"] == "publisher"
        assert event["actor"] == "admin"
        assert event["correlationid"] == correlation
        assert event["subject"] == api_id
        assert event["specversion"] == "1.0"
        assert event["data"]["api_id"] == api_id
    assert history[0]["data"]["description"] == "changed"
    assert history[0]["time"] >= history[1]["time"]


async def test_filters_combine_and_the_window_is_half_open(publisher: Publisher) -> None:
    actor, correlation = f"admin-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    plans = [PolicyUpdated(name=f"plan-{uuid.uuid4().hex[:8]}") for _ in range(3)]
    start = datetime.now(UTC).replace(microsecond=0)  # the store keeps milliseconds
    events = [
        emitted(p, actor=actor, correlation_id=correlation).model_copy(
            update={"time": start + timedelta(milliseconds=10 * i)}
        )
        for i, p in enumerate(plans)
    ]
    await publisher.publish(*events)
    by_actor = await settled(publisher, 3, actor=actor)
    assert [e["id"] for e in by_actor] == [e.id for e in reversed(events)]
    assert await settled(publisher, 3, correlationId=correlation) == by_actor
    one = await settled(publisher, 1, subject=plans[1].name, type="aigw.policy.updated")
    assert [e["id"] for e in one] == [events[1].id]
    assert (await trail(publisher, subject=plans[1].name, type="aigw.api.created"))["count"] == 0
    middle = events[1].time
    after = await trail(publisher, actor=actor, **{"from": middle.isoformat()})
    before = await trail(publisher, actor=actor, to=middle.isoformat())
    assert [e["id"] for e in after["list"]] == [events[2].id, events[1].id]
    assert [e["id"] for e in before["list"]] == [events[0].id]
    wrong = await publisher.client.get(
        AUDIT, params={"from": middle.isoformat(), "to": "2000-01-01"}
    )
    assert wrong.status_code == 422


async def test_pages_follow_the_cursor_without_gaps_or_repeats(publisher: Publisher) -> None:
    correlation = uuid.uuid4().hex
    events = [
        emitted(PolicyUpdated(name=f"paged-{i}-{correlation[:6]}"), correlation_id=correlation)
        for i in range(7)
    ]
    await publisher.publish(*events)
    await settled(publisher, 7, correlationId=correlation)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"correlationId": correlation, "limit": 3} | ({"cursor": cursor} if cursor else {})
        page = await trail(publisher, **params)
        pages += 1
        seen += [e["id"] for e in page["list"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [e.id for e in reversed(events)]
    for bad in ("nonsense", "YTE6LTE", "!!"):
        answer = await publisher.client.get(AUDIT, params={"cursor": bad})
        assert answer.status_code == 422, answer.text


async def test_a_subscriber_sees_its_own_applications_history_only(
    publisher: Publisher, signer: TestSigner
) -> None:
    correlation = uuid.uuid4().hex
    app_id, events = application_history("alice", correlation)
    _, bobs = application_history("bob", uuid.uuid4().hex)
    await publisher.publish(*events, *bobs)
    await settled(publisher, len(events), correlationId=correlation)
    alice = signer.auth("alice", ("subscriber",))
    own = await trail(publisher, alice, correlationId=correlation)
    assert [e["id"] for e in own["list"]] == [e.id for e in reversed(events)]
    assert (await trail(publisher, alice, subject=app_id))["count"] == 1  # its creation
    whole = await trail(publisher, alice, applicationId=app_id)
    assert [e["id"] for e in whole["list"]] == [e.id for e in reversed(events)]
    bob = signer.auth("bob", ("subscriber",))
    for params in (
        {"correlationId": correlation},
        {"subject": app_id},
        {"applicationId": app_id},
        {"actor": "alice"},
    ):
        assert (await trail(publisher, bob, **params))["list"] == [], params
    bobs_view = await trail(publisher, bob, limit=500)
    assert {e["id"] for e in bobs_view["list"]} >= {e.id for e in bobs}
    assert all(e["type"].split(".")[1] in _APPLICATION_ENTITIES for e in bobs_view["list"])


_APPLICATION_ENTITIES = {"application", "subscription", "key", "oauthclient", "token"}


async def test_a_publisher_sees_its_apis_and_the_catalogue_not_another_publishers_api(
    publisher: Publisher, signer: TestSigner
) -> None:
    paula, peter = signer.auth("paula", ("publisher",)), signer.auth("peter", ("publisher",))
    response = await publisher.client.post(
        f"{API_PREFIX}/apis", json=publisher.body(), headers=paula
    )
    api_id = response.json()["id"]
    plan = PolicyUpdated(name=f"seen-{uuid.uuid4().hex[:8]}")
    _, apps = application_history("alice", uuid.uuid4().hex)
    await publisher.publish(emitted(plan), *apps)
    await settled(publisher, 1, subject=plan.name)
    await settled(publisher, 1, subject=api_id)
    await settled(publisher, 1, subject=apps[0].subject)
    assert (await trail(publisher, paula, subject=api_id))["count"] == 1
    assert (await trail(publisher, peter, subject=api_id))["count"] == 0
    assert (await trail(publisher, peter, subject=plan.name))["count"] == 1
    assert (await trail(publisher, peter, subject=apps[0].subject))["count"] == 0
    assert (await trail(publisher, signer.auth("alice", ("subscriber",)), subject=api_id))[
        "count"
    ] == 0
    deleted = await publisher.client.delete(f"{API_PREFIX}/apis/{api_id}", headers=paula)
    assert deleted.status_code == 204, deleted.text
    # a deleted API's history stays its owner's
    await settled(publisher, 2, subject=api_id)
    assert (await trail(publisher, paula, subject=api_id))["count"] == 2


async def test_unsigned_and_forged_events_never_enter_the_trail(publisher: Publisher) -> None:
    forged = emitted(PolicyUpdated(name=f"forged-{uuid.uuid4().hex[:8]}"))
    # publisher's identity, but no signature
    async with connected("publisher", publisher.settings.nats_url) as nc:
        await nc.jetstream().publish(forged.type, forged.model_dump_json().encode())
    marker = emitted(PolicyUpdated(name=f"after-{uuid.uuid4().hex[:8]}"))
    await publisher.publish(marker)
    await settled(publisher, 1, subject=marker.subject)
    assert (await trail(publisher, subject=forged.subject))["count"] == 0
    assert publisher.app.state.runtime.verifier.rejected["unsigned"] >= 1


async def test_a_republished_event_is_folded_once(publisher: Publisher) -> None:
    event = emitted(PolicyUpdated(name=f"twice-{uuid.uuid4().hex[:8]}"))
    await publisher.publish(event)
    await publisher.publish(event, msg_id=uuid.uuid4().hex)  # past de-duplication: a 2nd message
    marker = emitted(PolicyUpdated(name=f"after-{uuid.uuid4().hex[:8]}"))
    await publisher.publish(marker)
    await settled(publisher, 1, subject=marker.subject)
    assert [e["id"] for e in (await trail(publisher, subject=event.subject))["list"]] == [event.id]


async def test_export_streams_a_range_oldest_first_past_a_page(publisher: Publisher) -> None:
    correlation = uuid.uuid4().hex
    events = [
        emitted(PolicyUpdated(name=f"export-{i}-{correlation[:6]}"), correlation_id=correlation)
        for i in range(120)
    ]
    await publisher.publish(*events)
    await settled(publisher, 120, correlationId=correlation)
    start, end = events[0].time, events[-1].time + timedelta(milliseconds=1)  # the store keeps ms
    params = {"format": "ndjson", "correlationId": correlation}
    params |= {"from": start.isoformat(), "to": end.isoformat()}
    async with publisher.client.stream("GET", AUDIT, params=params) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [line async for line in response.aiter_lines() if line]
    assert [json.loads(line)["id"] for line in lines] == [e.id for e in events]
    assert all(Envelope.model_validate_json(line) for line in lines)
    page = await trail(publisher, correlationId=correlation)
    assert page["count"] == 50
    assert page["nextCursor"] is not None


async def test_the_projection_is_rebuilt_identically_from_the_stream(
    infra: Infra, secret_key: str, signer: TestSigner, unique: str
) -> None:
    app_id, events = application_history("alice", uuid.uuid4().hex)
    async with running_publisher(infra, secret_key, signer, unique, dev_mode=True) as first:
        await first.publish(*events)
        await settled(first, len(events), subject=None, correlationId=events[0].correlationid)
        db = first.app.state.runtime.db
        folded = await _projection(db)
        for name in COLLECTIONS:
            await db.drop_collection(name)
    async with running_publisher(infra, secret_key, signer, unique, dev_mode=True) as second:
        await settled(second, len(events), correlationId=events[0].correlationid)
        db = second.app.state.runtime.db
        rebuilt = await eventually(lambda: _projection(db), lambda docs: len(docs) >= len(folded))
        assert rebuilt == folded
        owned = [d for d in rebuilt if d.get("application_id") == app_id]
        assert len(owned) == len(events)
        assert all(d["owner"] == "alice" for d in owned)
    async with running_publisher(infra, secret_key, signer, unique, dev_mode=True) as third:
        # a restart resumes after its checkpoint: the same documents, nothing twice
        await settled(third, len(events), correlationId=events[0].correlationid)
        assert await _projection(third.app.state.runtime.db) == folded


async def _projection(db: Any) -> list[dict[str, Any]]:
    return [doc async for doc in db[EVENTS].find({}).sort("seq", 1)]


async def test_an_anonymous_caller_is_refused(publisher: Publisher) -> None:
    async with httpx.AsyncClient(
        transport=publisher.client._transport, base_url="http://publisher"
    ) as anonymous:
        assert (await anonymous.get(AUDIT)).status_code == 401
