"""Storing usage records against the real store: each record once, however often its batch
arrives, and a batch that was partly stored before is completed, not refused; its rollups
counted once wherever a consumer died; buckets split at their limits and listed across their
boundaries; the Python filter of unwound calls agrees with the store's; reports from rollups
past 50,000 records."""

from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from aigw.common.usage import store
from aigw.common.usage.calls import CallsQuery, calls
from aigw.common.usage.store import Rollup
from tests.support.usage import record
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def listed(db, api: str = "api", **query) -> list[str]:
    """The record ids of an API's calls list, every page of `query` followed."""
    ids: list[str] = []
    cursor = None
    while True:
        page = await calls(db, {"api_id": api}, CallsQuery(**query, cursor=cursor))
        ids += [r.record_id for r in page.list]
        if (cursor := page.next_cursor) is None:
            return ids


async def test_records_are_stored_once_and_a_partly_stored_batch_is_completed(infra, unique):
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]
    now = datetime.now(UTC).replace(second=30)
    try:
        await store.ensure_indexes(db)
        first = [record("api", "app", time=now, prompt_tokens=i) for i in range(3)]
        assert await store.store_batch(db, "b1", first) == 3
        assert await store.store_batch(db, "b1", first) == 0  # redelivered
        assert await store.store_records(db, first[:2]) == 2  # another batch: its own
        assert await store.store_records(db, first[:2]) == 0  # the same records: the same batch
        assert await store.store_records(db, []) == 0
        assert await store.count_calls(db) == 5

        # a consumer that died between the buckets of a batch (one of three written)
        spread = [
            record("api", "app", time=now + timedelta(minutes=m), prompt_tokens=10 + m)
            for m in (1, 2, 3)
        ]
        assert len(store.buckets("b2", spread)) == 3
        await store._insert_new(db[store.CALLS], store.buckets("b2", spread)[:1])
        assert await store.store_batch(db, "b2", spread) == 2  # the rest
        assert await store.store_batch(db, "b2", spread) == 0
        assert await store.count_calls(db, "api") == 8
        newest_first = [r.record_id for r in reversed(spread)]
        assert (await listed(db))[:3] == newest_first
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
        return None if index is None else index.get("expireAfterSeconds")

    async def raw() -> int | None:
        buckets = await retention(store.CALLS, store.CALLS_RETENTION_INDEX)
        assert await retention(store.COLLECTION, store.RETENTION_INDEX) == buckets  # pre-bucket
        return buckets

    async def rollups() -> int | None:
        return await retention(store.ROLLUPS, store.ROLLUP_RETENTION_INDEX)

    try:
        await store.ensure_indexes(db)  # the default keeps everything
        assert (await raw(), await rollups()) == (None, None)
        # the buckets' index on their last call stays, without a TTL (it orders the lists)
        plain = (await db[store.CALLS].index_information())[store.CALLS_RETENTION_INDEX]
        assert [name for name, _ in plain["key"]] == ["last"]
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
                lambda: store.count_calls(db),
                1,
                interval=0.1,
                what="the expired record's bucket removed by the TTL index",
            )
            assert [
                r.record_id for r in (await calls(db, {"api_id": "api"}, CallsQuery())).list
            ] == [(await store.calls(db, {"api_id": "api"}, {"api_id": "api"}, None, 5))[0]["_id"]]
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
        assert store.CALLS_RETENTION_INDEX in await db[store.CALLS].index_information()
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
    """The batch is the unit: the gateway seals its records into a batch once and sends that
    batch again as it is, so a redelivery is the same batch id with the same records."""
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]
    try:
        await store.ensure_indexes(db)
        statuses = [200, 200, 429, 500]
        made = [record("api", "app", prompt_tokens=1, status=s) for s in statuses]
        # died after the buckets, before any rollup: the redelivery counts all of them
        await store._insert_new(db[store.CALLS], store.buckets("b1", made))
        assert await totals(db) == (0, 0)
        assert await store.store_batch(db, "b1", made) == 0  # listed before, counted now
        assert await totals(db) == (4, 4)
        assert await store.store_batch(db, "b1", made) == 0  # again: the same rollups, refused
        assert await totals(db) == (4, 4)

        # died halfway through its rollups (one of three written)
        later = [record("api", "app", prompt_tokens=10, status=s) for s in statuses]
        await store._insert_new(db[store.CALLS], store.buckets("b2", later))
        first: list[Rollup] = store.rollups(later)[:1]
        await store._insert_new(db[store.ROLLUPS], store.rollup_docs("b2", first))
        assert await totals(db) == (6, 24)
        await store.store_batch(db, "b2", later)  # redelivered: the rest
        assert await totals(db) == (8, 44)
        assert await store.count_calls(db) == 8
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()


async def test_a_batch_past_a_buckets_limit_is_listed_across_its_buckets(infra, unique):
    """1,201 calls of one minute and API (three buckets of at most 500), a second batch in the
    same minute whose bucket overlaps them in time (two calls at the very ms of others), and a
    pre-bucket record among them: every page in order, each call once, filters and windows
    included, for the API and for an application."""
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url)
    db = mongo[f"usage_{unique}"]
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    ms = timedelta(milliseconds=1)
    try:
        await store.ensure_indexes(db)
        big = [
            record("api", f"app-{i % 3}", time=minute + 40 * i * ms, status=(200, 429, 502)[i % 3])
            for i in range(1_201)
        ]
        other = [
            record("api", "app-x", time=minute + (40 * i + 20) * ms) for i in range(0, 1_201, 7)
        ]
        other += [
            record("api", "app-x", time=big[600].time),
            record("api", "app-x", time=big[0].time),
        ]
        assert [doc["count"] for doc in store.buckets("big", big)] == [500, 500, 201]
        assert await store.store_batch(db, "big", big) == 1_201
        assert await store.store_batch(db, "other", other) == len(other)
        assert (
            await store.store_batch(db, "noise", [record("elsewhere", "app-0", time=minute)]) == 1
        )
        legacy = record("api", "app-0", time=big[300].time + 5 * ms, status=502)
        await db[store.COLLECTION].insert_one({"_id": legacy.record_id, **store.to_doc(legacy)})
        everything = [*big, *other, legacy]

        def ids(keep=lambda r: True) -> list[str]:
            kept = sorted(((r.time, r.record_id) for r in everything if keep(r)), reverse=True)
            return [record_id for _, record_id in kept]

        assert await listed(db, limit=200) == ids()
        assert await listed(db, status="5xx", limit=50) == ids(lambda r: r.status >= 500)
        start, end = big[100].time, big[900].time
        window = await listed(db, limit=120, **{"from": start, "to": end})
        assert window == ids(lambda r: start <= r.time < end)
        by_app = await calls(db, {"application_id": "app-x"}, CallsQuery(limit=200))
        assert [r.record_id for r in by_app.list] == ids(lambda r: r.application_id == "app-x")
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()


def filters(now: datetime, an_id: str) -> list[dict]:
    return [
        {"status": 429},
        {"status": {"$gte": 400, "$lt": 500, "$ne": 499}},
        {"status": {"$lt": 400}},
        {"$and": [{"api_id": "api"}, {"model": "mistral-large"}, {"key_type": "SANDBOX"}]},
        {"request_id": "shared"},
        {"request_id": None},
        {"model": "unknown"},
        {"time": {"$gte": now, "$lt": now + timedelta(seconds=1)}},
        {"$or": [{"time": {"$lt": now}}, {"time": now, "_id": {"$lt": an_id}}]},
    ]


async def test_unwound_calls_are_filtered_as_the_store_filters(infra, unique):
    """`store.matches` decides for a call from a bucket what the store's `find` decides for
    the same document (the pre-bucket records are filtered by the store), for each kind of
    condition the calls lists make."""
    mongo: AsyncMongoClient = AsyncMongoClient(infra.mongodb_url, tz_aware=True)
    db = mongo[f"usage_{unique}"]
    now = datetime.now(UTC).replace(microsecond=0)
    made = [
        record("api", "app", time=now, status=200, request_id="shared"),
        record(
            "api", "app", time=now, status=429, key_type="SANDBOX", served_model="mistral-large"
        ),
        record("api", "app", time=now - timedelta(seconds=1), status=499, request_id=None),
        record("api", "app", time=now, status=446),
        record("api", "app", time=now, status=502, served_model=None, requested_model=None),
    ]
    docs = [{"_id": r.record_id, **store.to_doc(r)} for r in made]
    try:
        await db["calls"].insert_many([dict(doc) for doc in docs])
        for condition in filters(now, sorted(d["_id"] for d in docs)[2]):
            found = {doc["_id"] async for doc in db["calls"].find(condition, {"_id": 1})}
            assert {d["_id"] for d in docs if store.matches(d, condition)} == found, condition
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
