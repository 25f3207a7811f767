"""Which insert failures the usage store's inserts (`store._insert_new`, of a batch's buckets
and of its rollups) treat as "stored before" (the real store's duplicate refusals are in
tests/common/integration/test_usage_store.py): only duplicate ids. Anything else, a
write-concern error included, raises, so the consumer leaves the batch to be redelivered."""

from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from aigw.common.usage import store
from tests.support.usage import record


class _Refusing:
    """A collection that refuses every insert with `details`."""

    def __init__(self, details: dict[str, Any]) -> None:
        self.details = details

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool) -> None:
        assert not ordered  # one duplicate must not stop the others
        raise BulkWriteError(self.details)


def refusal(*codes: int, concern: bool = False) -> dict[str, Any]:
    return {
        "writeErrors": [{"index": i, "code": code, "errmsg": "x"} for i, code in enumerate(codes)],
        "writeConcernErrors": [{"code": 64, "errmsg": "waiting for replication timed out"}]
        if concern
        else [],
        "nInserted": 3 - len(codes),
    }


async def test_duplicates_count_as_stored_before():
    collection: Any = _Refusing(refusal(11000, 11000))
    docs = store.buckets("batch", [record(f"api-{i}", "app") for i in range(3)])
    assert await store._insert_new(collection, docs) == {0, 1}


@pytest.mark.parametrize(
    "details",
    [refusal(11000, 121), refusal(concern=True), refusal(11000, concern=True)],
    ids=["a validation error beside a duplicate", "write concern", "duplicate and concern"],
)
async def test_other_failures_raise(details):
    collection: Any = _Refusing(details)
    docs = store.buckets("batch", [record(f"api-{i}", "app") for i in range(3)])
    with pytest.raises(BulkWriteError):
        await store._insert_new(collection, docs)
