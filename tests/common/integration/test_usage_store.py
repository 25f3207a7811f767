"""Storing usage records against the real store: each record once, however often its batch
arrives, and a batch that was partly stored before is completed, not refused."""

import pytest
from pymongo import AsyncMongoClient

from aigw.common.usage import store
from tests.publisher.usage_events import record

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
        assert {doc["_id"] for doc in stored} == {r.request_id for r in first + later}
    finally:
        await mongo.drop_database(f"usage_{unique}")
        await mongo.close()
