"""How a batch's records become bucket documents (`store.buckets`), without a store: one per
(minute, API) of its calls, split at `BUCKET_CALLS` calls and `BUCKET_BYTES`, under ids made
of the batch id (the same batch again: the same documents), and read back as they went in."""

from datetime import UTC, datetime, timedelta

from aigw.common.usage import store
from tests.support.usage import record

MINUTE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_a_batch_has_a_bucket_per_minute_and_api() -> None:
    made = [
        record("api-a", "app-1", time=MINUTE + timedelta(seconds=5)),
        record("api-b", "app-1", time=MINUTE + timedelta(seconds=6)),
        record("api-a", "app-2", time=MINUTE + timedelta(seconds=1)),
        record("api-a", "app-1", time=MINUTE + timedelta(seconds=61)),
    ]
    buckets = store.buckets("b1", made)
    summary = [
        (b["api_id"], b["application_ids"], b["first"], b["last"], b["count"]) for b in buckets
    ]
    assert summary == [
        ("api-a", ["app-1", "app-2"], made[2].time, made[0].time, 2),
        ("api-b", ["app-1"], made[1].time, made[1].time, 1),
        ("api-a", ["app-1"], made[3].time, made[3].time, 1),
    ]
    assert [call["_id"] for call in store.bucket_calls(buckets[0])] == [
        made[0].record_id,
        made[2].record_id,
    ]
    (call,) = store.bucket_calls(buckets[1])
    assert call == {"_id": made[1].record_id, **store.to_doc(made[1])}
    assert call["time"].tzinfo is not None


def test_ids_are_the_batchs_own_and_the_same_for_the_same_batch() -> None:
    made = [record("api", "app", time=MINUTE + timedelta(minutes=m)) for m in range(3)]
    ids = [b["_id"] for b in store.buckets("b1", made)]
    assert len(set(ids)) == 3
    assert all(i.startswith("b1:") for i in ids)
    assert [b["_id"] for b in store.buckets("b1", made)] == ids
    assert store.buckets("b1", made) == store.buckets("b1", made)
    assert not set(ids) & {b["_id"] for b in store.buckets("b2", made)}


def test_a_bucket_holds_at_most_bucket_calls_calls() -> None:
    made = [record("api", "app", time=MINUTE) for _ in range(2 * store.BUCKET_CALLS + 1)]
    buckets = store.buckets("b1", made)
    assert [b["count"] for b in buckets] == [store.BUCKET_CALLS, store.BUCKET_CALLS, 1]
    assert len({b["_id"] for b in buckets}) == 3
    unwound = [call["_id"] for b in buckets for call in store.bucket_calls(b)]
    assert unwound == [r.record_id for r in made]


def test_a_bucket_holds_at_most_bucket_bytes_of_calls() -> None:
    """A quarter of the limit per call: three fit, a fourth goes on to the next bucket; a call
    larger than the limit alone still gets a bucket of its own."""
    quarter = "x" * (store.BUCKET_BYTES // 4)
    made = [record("api", "app", time=MINUTE, target=quarter) for _ in range(7)]
    made.append(record("api", "app", time=MINUTE, target=quarter * 5))
    buckets = store.buckets("b1", made)
    assert [b["count"] for b in buckets] == [3, 3, 1, 1]
    assert all(len(b["calls"]) <= store.BUCKET_BYTES for b in buckets[:3])
    unwound = [call["_id"] for b in buckets for call in store.bucket_calls(b)]
    assert unwound == [r.record_id for r in made]
