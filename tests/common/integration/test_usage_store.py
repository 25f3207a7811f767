"""Storing usage records against the real store: each record once, however often its batch
arrives, and a batch that was partly stored before is completed, not refused; its rollups
counted once wherever a consumer died; reports from rollups past 50,000 records."""

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from aigw.common.usage import store
from aigw.common.usage.store import Rollup
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
    """Raw records and rollups have retentions of their own: old calls leave the calls
    lists while the reports still count them."""
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]

    async def retention(collection: str, name: str) -> int | None:
        index = (await db[collection].index_information()).get(name)
        return None if index is None else index["expireAfterSeconds"]

    async def raw() -> int | None:
        return await retention(store.COLLECTION, store.RETENTION_INDEX)

    async def rollups() -> int | None:
        return await retention(store.ROLLUPS, store.ROLLUP_RETENTION_INDEX)

    try:
        await store.ensure_indexes(db)  # the default keeps everything
        assert (await raw(), await rollups()) == (None, None)
        await store.ensure_indexes(db, 365, 30)
        assert (await raw(), await rollups()) == (30 * 86_400, 365 * 86_400)
        await store.ensure_indexes(db, 365, 30)  # unchanged: left as it is
        await store.ensure_indexes(db, 0, 7)
        assert (await raw(), await rollups()) == (7 * 86_400, None)
        if infra.mongodb_mode == "mongoeco":  # MongoDB's TTL monitor runs once a minute
            now = datetime.now(UTC)
            old = record("api", "app", time=now - timedelta(days=31), prompt_tokens=5)
            await store.store_records(db, [old, record("api", "app")])
            await eventually(
                lambda: db[store.COLLECTION].count_documents({}),
                1,
                interval=0.1,
                what="the expired record removed by the TTL index",
            )
            window = (now - timedelta(days=40), now + timedelta(minutes=1))
            (totals,) = await store.grouped_totals(db, {"api_id": "api"}, *window, "api")
            assert (totals["requests"], totals["prompt_tokens"]) == (2, 5)  # still reported
            await store.ensure_indexes(db, 30, 7)
            await eventually(
                lambda: db[store.ROLLUPS].count_documents({}),
                1,
                interval=0.1,
                what="the expired rollup removed by its TTL index",
            )
        await store.ensure_indexes(db, 0, 0)
        assert (await raw(), await rollups()) == (None, None)
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
            old.pop(field, None)
        await db[store.COLLECTION].insert_one({"_id": "before", **old})
        await store.backfill_rollups(db)
        await store.backfill_rollups(db)  # once
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
        await store.backfill_rollups(db)
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


async def totals(db, api: str = "api") -> tuple[int, int]:
    now = datetime.now(UTC)
    rows = await store.grouped_totals(
        db, {"api_id": api}, now - timedelta(hours=1), now + timedelta(minutes=1), "api"
    )
    return (rows[0]["requests"], rows[0]["prompt_tokens"]) if rows else (0, 0)


async def test_a_batch_is_counted_once_wherever_its_consumer_died(infra, unique):
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]
    try:
        await store.ensure_indexes(db)
        statuses = [200, 200, 429, 500]
        made = [record("api", "app", prompt_tokens=1, status=s) for s in statuses]
        # died after the raw insert, before any rollup: the redelivery counts all of them
        await store._insert_records(db, "b1", made)
        assert await totals(db) == (0, 0)
        assert await store.store_batch(db, "b1", made) == 4
        assert await totals(db) == (4, 4)
        assert await store.store_batch(db, "b1", made) == 4  # again: the same rollups, refused
        assert await totals(db) == (4, 4)

        # died halfway through its rollups (one of three written)
        later = [record("api", "app", prompt_tokens=10, status=s) for s in statuses]
        await store._insert_records(db, "b2", later)
        first: list[Rollup] = store.rollups(later)[:1]
        await store._insert_rollups(db, "b2", first)
        assert await totals(db) == (6, 24)
        assert await store.store_batch(db, "b2", later) == 4  # redelivered: the rest
        assert await totals(db) == (8, 44)

        # a record another batch stored first is counted by that batch only
        resent = [made[0], record("api", "app", prompt_tokens=100)]
        assert await store.store_batch(db, "b3", resent) == 1
        assert await totals(db) == (9, 144)
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()


async def test_a_report_answers_past_50000_records(infra, unique):
    """The store's `$group` refused more than 50,000 documents; the report reads rollups."""
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]
    count = 50_250
    try:
        await store.ensure_indexes(db)
        now = datetime.now(UTC)
        for start in range(0, count, 5_025):
            chunk = [
                record("api", f"app-{i % 3}", time=now, prompt_tokens=1, status=200)
                for i in range(start, start + 5_025)
            ]
            assert await store.store_records(db, chunk) == len(chunk)
        groups = await store.grouped_totals(
            db,
            {"api_id": "api"},
            now - timedelta(minutes=1),
            now + timedelta(minutes=1),
            "application",
        )
        assert [(g["key"], g["requests"]) for g in groups] == [
            (f"app-{i}", count // 3) for i in range(3)
        ]
        assert sum(g["served"] for g in groups) == count
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()
