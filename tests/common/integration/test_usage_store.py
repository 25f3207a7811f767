"""Storing usage records against the real store: each record once, however often its batch
arrives, and a batch that was partly stored before is completed, not refused."""

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from aigw.common.usage import store
from tests.support.usage import record
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_records_are_stored_once_and_a_partly_stored_batch_is_completed(infra, unique):
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]
    try:
        await store.ensure_indexes(db)
        first = [record("api", "app", prompt_tokens=i) for i in range(3)]
        assert await store.store_records(db, first) == 3
        assert await store.store_records(db, first) == 0  # redelivered
        later = [record("api", "app", prompt_tokens=10 + i) for i in range(2)]
        assert await store.store_records(db, [first[0], *later, first[2]]) == 2
        assert await store.store_records(db, []) == 0
        stored = await db[store.COLLECTION].find({}, {"prompt_tokens": 1}).to_list()
        assert sorted(doc["prompt_tokens"] for doc in stored) == [0, 1, 2, 10, 11]
        assert {doc["_id"] for doc in stored} == {r.record_id for r in first + later}
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()


async def test_retention_is_a_ttl_index_that_follows_the_setting(infra, unique):
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]

    async def retention() -> int | None:
        index = (await db[store.COLLECTION].index_information()).get(store.RETENTION_INDEX)
        return None if index is None else index["expireAfterSeconds"]

    try:
        await store.ensure_indexes(db)  # the default keeps everything
        assert await retention() is None
        await store.ensure_indexes(db, 365)
        assert await retention() == 365 * 86_400
        await store.ensure_indexes(db, 365)  # unchanged: left as it is
        await store.ensure_indexes(db, 30)
        assert await retention() == 30 * 86_400
        if infra.mongodb_mode == "mongoeco":  # MongoDB's TTL monitor runs once a minute
            old = record("api", "app", time=datetime.now(UTC) - timedelta(days=31))
            await store.store_records(db, [old, record("api", "app")])
            await eventually(
                lambda: db[store.COLLECTION].count_documents({}),
                1,
                interval=0.1,
                what="the expired record removed by the TTL index",
            )
        await store.ensure_indexes(db, 0)
        assert await retention() is None
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()


async def test_the_totals_count_cache_outcomes_tokens_saved_and_interventions(infra, unique):
    """Per group, as the reports show them; records stored before these fields existed (no
    `cache`, `guardrail` nor `tokens_saved`) count as none."""
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]
    now = datetime.now(UTC)
    try:
        await store.store_records(
            db,
            [
                record("api", "a", cache="hit", cached=True, tokens_saved=40),
                record("api", "a", cache="hit", cached=True, tokens_saved=2),
                record("api", "a", cache="miss", prompt_tokens=30, completion_tokens=12),
                record("api", "b", cache="bypass", prompt_tokens=5),
                record("api", "b", guardrail="no-secrets", guardrail_direction="REQUEST"),
                record("api", "b", guardrail="json", guardrail_direction="RESPONSE", cache="miss"),
                record("other", "a", cache="hit", tokens_saved=1000, guardrail="x"),
            ],
        )
        old = store.to_doc(record("api", "b", prompt_tokens=1))
        for field in ("cache", "cached", "tokens_saved", "guardrail", "guardrail_direction"):
            old.pop(field)
        await db[store.COLLECTION].insert_one({"_id": "before", **old})
        start, end = now - timedelta(minutes=1), now + timedelta(minutes=1)

        groups = await store.grouped_totals(db, {"api_id": "api"}, start, end, "application")

        cache = ["cache_hits", "cache_misses", "cache_bypasses", "guardrail_interventions"]
        counted = ["key", "requests", "tokens_saved", *cache]
        assert [[group[name] for name in counted] for group in groups] == [
            ["a", 3, 42, 2, 1, 0, 0],
            ["b", 4, 0, 0, 1, 1, 2],
        ]
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()


async def test_outcomes_estimates_and_status_groups(infra, unique):
    """Each call counts in one outcome by its status; records stored before `estimated`
    existed count as reported."""
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]
    now = datetime.now(UTC)
    statuses = [200, 201, 304, 400, 401, 429, 446, 499, 500, 502, 504]
    try:
        await store.store_records(
            db, [record("api", "a", status=s, estimated=s == 200) for s in statuses]
        )
        old = store.to_doc(record("api", "a", status=200))
        old.pop("estimated")
        await db[store.COLLECTION].insert_one({"_id": "before", **old})
        start, end = now - timedelta(minutes=1), now + timedelta(minutes=1)

        (totals,) = await store.grouped_totals(db, {"api_id": "api"}, start, end, "application")
        outcomes = ["served", "refused", "abandoned", "errors", "estimated"]
        assert {name: totals[name] for name in outcomes} == {
            "served": 4,
            "refused": 4,
            "abandoned": 1,
            "errors": 3,
            "estimated": 1,
        }
        by_status = await store.grouped_totals(db, {"api_id": "api"}, start, end, "status")
        assert [(g["key"], g["requests"]) for g in by_status] == [
            (s, 2 if s == 200 else 1) for s in statuses
        ]
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()
