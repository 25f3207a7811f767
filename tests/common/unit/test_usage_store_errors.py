"""Which insert failures the raw records' insert (`store._insert_records`) treats as "stored before" (the real store's duplicate
refusals are in tests/common/integration/test_usage_store.py): only duplicate ids. Anything else,
a write-concern error included, raises, so the consumer leaves the batch to be redelivered."""

from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from aigw.common.usage import store
from tests.support.usage import record


class _Refusing:
    """A database whose usage collection refuses every insert with `details`."""

    def __init__(self, details: dict[str, Any]) -> None:
        self.details = details

    def __getitem__(self, name: str) -> "_Refusing":
        assert name == store.COLLECTION
        return self

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
    db: Any = _Refusing(refusal(11000, 11000))
    records = [record("api", "app") for _ in range(3)]
    assert await store._insert_records(db, "batch", records) == {0, 1}


@pytest.mark.parametrize(
    "details",
    [refusal(11000, 121), refusal(concern=True), refusal(11000, concern=True)],
    ids=["a validation error beside a duplicate", "write concern", "duplicate and concern"],
)
async def test_other_failures_raise(details):
    db: Any = _Refusing(details)
    with pytest.raises(BulkWriteError):
        await store._insert_records(db, "batch", [record("api", "app") for _ in range(3)])
