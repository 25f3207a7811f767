"""The usage store: raw per-call records (`usage_calls`) and per-minute rollups (`usage_rollups`).

Records arrive in batches (aigw.usage.recorded) that JetStream may deliver more than once; the
gateway seals a batch once (its records and batch id never change, however often it is sent),
so the batch is the unit of idempotence.

- `usage_calls`: a batch's records in buckets, one document per (minute, API) of its calls,
  up to `BUCKET_CALLS` calls and `BUCKET_BYTES` of them (more split into further documents),
  each under an id made of the batch id, the minute, the API and the chunk's index: a
  redelivered batch writes the same documents again, refused as duplicates. A bucket holds its
  calls as one binary value (each call as `to_doc` makes it, its record id as `_id`, encoded
  as BSON, one after the other), the API, the applications it has calls of, and its first and
  last call's times; the calls lists read buckets by subject, newest `last` first, and unwind
  and filter them here (`calls`, `matches`). Kept `AIGW_USAGE_CALLS_RETENTION_DAYS` (a TTL
  index on `last`: a bucket leaves once its newest call is that old).
- `usage_rollups`: per batch, one document per (minute, API, application, key type, model,
  status) of its calls, with their counts and token sums; the reports read only these (a
  `find` summed here, never a `$group` over the raw records), so they answer at any number of
  calls. Kept `AIGW_USAGE_RETENTION_DAYS` (TTL on `minute`).

A batch is stored in two writes, both plain unordered inserts (a duplicate refused, the others
still in): its buckets, then its rollups (`_id`: the batch id and the key). Both are functions
of the batch alone under ids of its own, so wherever a consumer dies, the redelivery completes
what is missing and refuses the rest: each call is listed and counted once.

Why buckets, and their calls as one binary value: the embedded store (mongoeco, `make run`)
spends its CPU per field and per document, in Python: measured (4,000 records, SQLite), about
820 µs of store CPU per record as one document per call, 730 as buckets whose calls are an
array of subdocuments, 55 as buckets whose calls are one binary value. MongoDB stores such a
value as it is too. The price: the store cannot filter inside a bucket, so the calls lists
decode and filter the calls of every bucket they read (a selective filter reads many).
Why inserts, not `$inc` upserts of one rollup per minute and key: an update costs 2.5 ms or
more there (one commit and worker thread each) and an update guarded by the batch id
(`batches: {$ne: id}`) scans the collection, while a batch of inserts is one transaction.

`usage` holds the per-call documents stored before buckets (one per call, keyed by record id):
the calls lists still read them, merged into the buckets' order, until their own TTL (the same
retention, on `time`) removes them. The oldest of them (no `batch_id`, from before rollups)
are folded once into rollups of their own (`legacy:` ids, written with `$set`, so a rerun
rewrites the same totals) by `backfill_rollups`.
"""

import contextlib
import hashlib
import heapq
import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import bson
from bson.binary import Binary
from bson.codec_options import CodecOptions
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from aigw.common.events import UsageRecord
from aigw.common.usage.outcome import COUNTER_NAMES, outcome

CALLS = "usage_calls"  # the per-call records, in buckets
COLLECTION = "usage"  # the per-call documents stored before buckets
ROLLUPS = "usage_rollups"
META = "usage_meta"  # what the store records of itself (the backfill's marker)
DUPLICATE_KEY = 11000  # MongoDB's error code
CALLS_RETENTION_INDEX = "usage_calls_retention"  # the buckets' TTL index
RETENTION_INDEX = "usage_retention"  # the pre-bucket per-call documents' TTL index
ROLLUP_RETENTION_INDEX = "usage_rollups_retention"
BACKFILLED = "rollups-backfilled"  # the marker of backfill_rollups
# summed per rollup; the outcomes (served, refused, ...) follow from the key's status
SUMS = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "tokens_saved",
    "cache_hits",
    "cache_misses",
    "cache_bypasses",
    "guardrail_interventions",
    "estimated",
)
OUTCOME_COUNTERS = tuple(COUNTER_NAMES.values())
COUNTERS = SUMS + OUTCOME_COUNTERS
# groupBy value -> the rollup field it groups on
GROUP_FIELDS = {
    "model": "model",
    "application": "application_id",
    "api": "api_id",
    "hour": "hour",
    "status": "status",
}
# a bucket's limits: what a batch's calls of one (minute, API) beyond them go on to another;
# bytes well below MongoDB's 16 MiB document limit
BUCKET_CALLS = 500
BUCKET_BYTES = 4 * 1024 * 1024
# a calls list's subject (a call's field) -> the bucket's field naming it
BUCKET_SUBJECTS = {"api_id": "api_id", "application_id": "application_ids"}
# a subject's buckets, newest last call first (application_ids: a multikey index)
BUCKET_INDEXES = ([("api_id", 1), ("last", -1)], [("application_ids", 1), ("last", -1)])
BUCKETS_PER_READ = 20  # a calls list reads buckets in batches this size, until a page is full
# the calls lists' order, newest first (the record id breaks ties between calls of one ms)
CALL_ORDER = [("time", -1), ("_id", -1)]
# the pre-bucket records in the calls' order; serves the calls' time windows as well
SUBJECT_INDEXES = {
    "api_id": [("api_id", 1), *CALL_ORDER],
    "application_id": [("application_id", 1), *CALL_ORDER],
}
# what SUBJECT_INDEXES replace (a store made before the calls lists had these)
SUPERSEDED_INDEXES = ("api_id_1_time_1", "application_id_1_time_1")
# a report's subject (api_id or application_id) over a window of minutes
ROLLUP_INDEXES = ([("api_id", 1), ("minute", 1)], [("application_id", 1), ("minute", 1)])

Db = AsyncDatabase[dict[str, Any]]


async def ensure_indexes(db: Db, retention_days: int = 0, calls_retention_days: int = 0) -> None:
    """The collections' indexes; `retention_days` is the rollups' (the reports'),
    `calls_retention_days` the raw records' (the calls lists'); 0 keeps them all."""
    for keys in BUCKET_INDEXES:
        await db[CALLS].create_index(keys)
    usage = db[COLLECTION]
    for keys in SUBJECT_INDEXES.values():
        await usage.create_index(keys)
    # a call found by the x-request-id its caller got
    await usage.create_index("request_id")
    existing = await usage.index_information()
    for name in SUPERSEDED_INDEXES:
        if name in existing:
            with contextlib.suppress(OperationFailure):  # another instance dropped it first
                await usage.drop_index(name)
    for keys in ROLLUP_INDEXES:
        await db[ROLLUPS].create_index(keys)
    await ensure_retention(db, calls_retention_days)
    await _ttl(db, ROLLUPS, "minute", ROLLUP_RETENTION_INDEX, retention_days)


async def ensure_retention(db: Db, days: int) -> None:
    """Have the store delete raw records older than `days` (TTL indexes on a bucket's last
    call and on a pre-bucket record's `time`); 0 keeps them all. A changed setting replaces
    the index (MongoDB's TTL monitor applies it within a minute or so)."""
    # kept without a TTL too: the embedded store orders the calls lists' buckets by `last`
    # through a single-field index only (without one it reads all of a subject's: 188 against
    # 4 ms for the first 20 of 2,200 buckets)
    await _ttl(db, CALLS, "last", CALLS_RETENTION_INDEX, days, plain=True)
    await _ttl(db, COLLECTION, "time", RETENTION_INDEX, days)


async def _ttl(db: Db, collection: str, on: str, name: str, days: int, plain: bool = False) -> None:
    """A TTL index `name` on `on` of `days` (0: none, or with `plain` one without a TTL)."""
    coll = db[collection]
    seconds = days * 86_400
    current = (await coll.index_information()).get(name)
    if current is not None and current.get("expireAfterSeconds") == (seconds or None):
        return
    if current is not None:
        with contextlib.suppress(OperationFailure):  # another instance dropped it first
            await coll.drop_index(name)
    if seconds:
        await coll.create_index(on, expireAfterSeconds=seconds, name=name)
    elif plain:
        await coll.create_index(on, name=name)


def _utc(time: datetime) -> datetime:
    return time.astimezone(UTC) if time.tzinfo is not None else time.replace(tzinfo=UTC)


def hour_key(time: datetime) -> str:
    return _utc(time).strftime("%Y-%m-%dT%H:00:00Z")


def minute_of(time: datetime) -> datetime:
    return _utc(time).replace(second=0, microsecond=0)


def model_of(record: UsageRecord) -> str:
    return record.served_model or record.requested_model or "unknown"


def to_doc(record: UsageRecord) -> dict[str, Any]:
    """The raw record as stored (without its `_id`): its fields but those it has no value of
    (fewer fields, less to write: the calls lists read a missing one as null) and the model it
    is listed by."""
    doc = record.model_dump(exclude={"record_id"}, exclude_none=True)
    doc["model"] = model_of(record)
    return doc


# -- buckets ------------------------------------------------------------------------------


def buckets(batch_id: str, records: Iterable[UsageRecord]) -> list[dict[str, Any]]:
    """The batch's bucket documents: its calls per (minute, API), in the batch's order, in
    chunks of at most `BUCKET_CALLS` calls and `BUCKET_BYTES`; the same for the same batch."""
    by_key: dict[tuple[datetime, str], list[UsageRecord]] = {}
    for r in records:
        by_key.setdefault((minute_of(r.time), r.api_id), []).append(r)
    made = []
    for (minute, api_id), of_key in by_key.items():
        chunks: list[list[tuple[UsageRecord, bytes]]] = [[]]
        size = 0
        for r in of_key:
            encoded = bson.encode({"_id": r.record_id, **to_doc(r)})
            if chunks[-1] and (
                len(chunks[-1]) == BUCKET_CALLS or size + len(encoded) > BUCKET_BYTES
            ):
                chunks.append([])
                size = 0
            chunks[-1].append((r, encoded))
            size += len(encoded)
        for index, chunk in enumerate(chunks):
            key = json.dumps([minute.strftime("%Y-%m-%dT%H:%MZ"), api_id, index])
            times = [r.time for r, _ in chunk]
            made.append(
                {
                    "_id": f"{batch_id}:{key}",
                    "api_id": api_id,
                    "application_ids": sorted({r.application_id for r, _ in chunk}),
                    "first": min(times),
                    "last": max(times),
                    "count": len(chunk),
                    "calls": Binary(b"".join(encoded for _, encoded in chunk)),
                }
            )
    return made


def bucket_calls(bucket: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A bucket's calls, as `to_doc` made them (with `_id`), their times in UTC."""
    return bson.decode_all(bytes(bucket["calls"]), _CALL_CODEC)


_CALL_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True, tzinfo=UTC)


# -- rollups ------------------------------------------------------------------------------


@dataclass(slots=True)
class Rollup:
    """One rollup key's increments from some records."""

    minute: datetime
    api_id: str
    application_id: str
    key_type: str
    model: str
    status: int
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUMS, 0))

    @property
    def id(self) -> str:
        key = [self.minute.strftime("%Y-%m-%dT%H:%MZ"), self.api_id, self.application_id]
        return json.dumps([*key, self.key_type, self.model, self.status], separators=(",", ":"))

    def add(self, record: UsageRecord | Mapping[str, Any]) -> None:
        get = record.get if isinstance(record, Mapping) else record.__getattribute__
        sums = self.sums
        sums["requests"] += 1
        for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
            sums[name] += get(name) or 0
        sums["tokens_saved"] += get("tokens_saved") or 0
        cache = get("cache")
        if cache == "hit":
            sums["cache_hits"] += 1
        elif cache == "miss":
            sums["cache_misses"] += 1
        elif cache == "bypass":
            sums["cache_bypasses"] += 1
        if get("guardrail") is not None:
            sums["guardrail_interventions"] += 1
        if get("estimated"):
            sums["estimated"] += 1

    def fields(self) -> dict[str, Any]:
        """The key's fields as stored (`hour` is the minute's, for groupBy=hour)."""
        return {
            "minute": self.minute,
            "hour": hour_key(self.minute),
            "api_id": self.api_id,
            "application_id": self.application_id,
            "key_type": self.key_type,
            "model": self.model,
            "status": self.status,
        }


def rollups(records: Iterable[UsageRecord]) -> list[Rollup]:
    """The records' increments, one per rollup key."""
    by_key: dict[tuple[Any, ...], Rollup] = {}
    for r in records:
        key = (minute_of(r.time), r.api_id, r.application_id, r.key_type, model_of(r), r.status)
        if (rollup := by_key.get(key)) is None:
            rollup = by_key[key] = Rollup(*key)
        rollup.add(r)
    return list(by_key.values())


async def store_batch(db: Db, batch_id: str, records: list[UsageRecord]) -> int:
    """Store a batch's records (in buckets) and its rollups, once however often the batch
    arrives (see the module's docstring); returns how many of its records were not stored
    before (0: a redelivery)."""
    if not records:
        return 0
    docs = buckets(batch_id, records)
    before = await _insert_new(db[CALLS], docs)
    await _insert_new(db[ROLLUPS], rollup_docs(batch_id, rollups(records)))
    return sum(doc["count"] for i, doc in enumerate(docs) if i not in before)


async def store_records(db: Db, records: list[UsageRecord]) -> int:
    """`store_batch` of records that came in no batch of their own (a tool, a test), under a
    batch id made of their record ids: the same records again are the same batch."""
    digest = hashlib.sha256("\n".join(r.record_id for r in records).encode()).hexdigest()
    return await store_batch(db, "records-" + digest[:32], records)


def rollup_docs(batch_id: str, increments: Iterable[Rollup]) -> list[dict[str, Any]]:
    return [{"_id": f"{batch_id}:{r.id}", **r.fields(), **r.sums} for r in increments]


async def _insert_new(
    collection: AsyncCollection[dict[str, Any]], docs: list[dict[str, Any]]
) -> set[int]:
    """Insert the documents, one unordered insert; the indexes (in `docs`) of those stored
    before (refused as duplicate ids). Any other refusal raises: the batch is redelivered."""
    if not docs:
        return set()
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        details = exc.details
        errors = details.get("writeErrors", [])
        if details.get("writeConcernErrors") or any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        return {int(e["index"]) for e in errors}
    return set()


async def backfill_rollups(db: Db) -> None:
    """Fold the raw records stored before rollups existed (no `batch_id`) into rollups of their
    own, once (a marker in `usage_meta`); rerun after a crash, it rewrites the same totals."""
    if await db[META].find_one({"_id": BACKFILLED}) is not None:
        return
    by_key: dict[tuple[Any, ...], Rollup] = {}
    async for doc in db[COLLECTION].find({"batch_id": {"$exists": False}}):
        model = doc.get("model") or doc.get("served_model") or doc.get("requested_model")
        key = (
            minute_of(doc["time"]),
            doc["api_id"],
            doc["application_id"],
            doc["key_type"],
            model or "unknown",
            doc["status"],
        )
        if (rollup := by_key.get(key)) is None:
            rollup = by_key[key] = Rollup(*key)
        rollup.add(doc)
    updates = [
        UpdateOne({"_id": "legacy:" + r.id}, {"$set": {**r.fields(), **r.sums}}, upsert=True)
        for r in by_key.values()
    ]
    for i in range(0, len(updates), 1000):
        await db[ROLLUPS].bulk_write(updates[i : i + 1000], ordered=False)
    await db[META].update_one({"_id": BACKFILLED}, {"$set": {"done": True}}, upsert=True)


async def grouped_totals(
    db: Db, match: dict[str, Any], start: datetime, end: datetime, group_by: str
) -> list[dict[str, Any]]:
    """Per group: `key`, and the `COUNTERS` of the calls in the minutes from `start`'s to
    the last that begins before `end` (the rollups' resolution is the minute)."""
    query = {**match, "minute": {"$gte": minute_of(start), "$lt": _utc(end)}}
    wanted = dict.fromkeys((*SUMS, GROUP_FIELDS[group_by], "status"), 1)
    return sum_rollups([doc async for doc in db[ROLLUPS].find(query, wanted)], group_by)


def sum_rollups(docs: Iterable[Mapping[str, Any]], group_by: str) -> list[dict[str, Any]]:
    """The rollup documents' counters summed per group (`key`: the group's value), in the
    order of the keys; each document's requests count in the outcome of its status."""
    groups: dict[Any, dict[str, Any]] = {}
    for doc in docs:
        key = doc[GROUP_FIELDS[group_by]]
        if (group := groups.get(key)) is None:
            group = groups[key] = {"key": key, **dict.fromkeys(COUNTERS, 0)}
        for name in SUMS:
            group[name] += doc.get(name, 0)
        group[COUNTER_NAMES[outcome(doc["status"])]] += doc.get("requests", 0)
    return sorted(groups.values(), key=lambda group: str(group["key"]))


# -- the calls lists ----------------------------------------------------------------------


async def calls(
    db: Db,
    subject: dict[str, str],
    match: dict[str, Any],
    after: tuple[datetime, str] | None,
    limit: int,
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> list[dict[str, Any]]:
    """Up to `limit` calls of `subject` (`{"api_id": ...}` or `{"application_id": ...}`)
    matching `match` (a `find` filter on a call's fields, `subject` and the time `window`
    [start, end) included), newest first (`CALL_ORDER`), starting after the call at `after`
    (its time and id) when given; from the buckets and the pre-bucket records, merged."""
    if after is not None:
        time, record_id = after
        later = {"$or": [{"time": {"$lt": time}}, {"time": time, "_id": {"$lt": record_id}}]}
        match = {"$and": [match, later]}
    found = await _bucketed_calls(db, subject, match, after, limit, window)
    older = await db[COLLECTION].find(match, sort=CALL_ORDER, limit=limit).to_list()
    for doc in older:
        doc["time"] = _utc(doc["time"])
    return sorted([*found, *older], key=_order, reverse=True)[:limit]


def _order(call: Mapping[str, Any]) -> tuple[datetime, str]:
    return call["time"], str(call["_id"])


async def _bucketed_calls(
    db: Db,
    subject: dict[str, str],
    match: dict[str, Any],
    after: tuple[datetime, str] | None,
    limit: int,
    window: tuple[datetime | None, datetime | None],
) -> list[dict[str, Any]]:
    """The newest `limit` calls matching `match`, unwound from `subject`'s buckets read in
    order of their last call, newest first: once `limit` calls are newer than the last call
    of the next bucket, no further bucket holds a newer one."""
    query: dict[str, Any] = {BUCKET_SUBJECTS[name]: value for name, value in subject.items()}
    start, end = window
    if start is not None:
        query["last"] = {"$gte": start}
    first = {"$lt": end} if end is not None else {}
    if after is not None:
        first["$lte"] = after[0]
    if first:
        query["first"] = first
    tie = itertools.count()  # equal orders (one record in two batches) never compare the calls
    newest: list[tuple[tuple[datetime, str], int, dict[str, Any]]] = []  # a min-heap
    read = db[CALLS].find(query, {"calls": 1, "last": 1}, sort=[("last", -1)])
    try:
        async for bucket in read.batch_size(BUCKETS_PER_READ):
            if len(newest) == limit and newest[0][0][0] > _utc(bucket["last"]):
                break
            for call in bucket_calls(bucket):
                if not matches(call, match):
                    continue
                item = (_order(call), next(tie), call)
                if len(newest) < limit:
                    heapq.heappush(newest, item)
                elif item[0] > newest[0][0]:
                    heapq.heapreplace(newest, item)
    finally:
        await read.close()
    return [call for _, _, call in newest]


def matches(doc: Mapping[str, Any], condition: Mapping[str, Any]) -> bool:
    """Whether a call (unwound from its bucket) matches a `find` filter, as the store would
    decide: the calls lists' filters (`calls.conditions`) use `$and`, `$or`, equality and the
    comparisons below; a missing field is null, and a comparison across types is false."""
    for name, wanted in condition.items():
        if name == "$and":
            if not all(matches(doc, part) for part in wanted):
                return False
        elif name == "$or":
            if not any(matches(doc, part) for part in wanted):
                return False
        elif isinstance(wanted, Mapping) and wanted and next(iter(wanted)).startswith("$"):
            value = doc.get(name)
            if not all(_compare(op, value, bound) for op, bound in wanted.items()):
                return False
        elif doc.get(name) != wanted:
            return False
    return True


def _compare(op: str, value: Any, bound: Any) -> bool:
    if op == "$eq":
        return bool(value == bound)
    if op == "$ne":
        return bool(value != bound)
    if op not in _ORDERINGS:
        raise ValueError(f"the calls lists do not filter with {op}")
    if not _comparable(value, bound):
        return False
    if isinstance(value, datetime):
        value, bound = _utc(value), _utc(bound)
    return bool(_ORDERINGS[op](value, bound))


def _comparable(value: Any, bound: Any) -> bool:
    numbers = (int, float)
    if isinstance(value, bool) or isinstance(bound, bool):
        return isinstance(value, bool) and isinstance(bound, bool)
    if isinstance(value, numbers) and isinstance(bound, numbers):
        return True
    return any(isinstance(value, kind) and isinstance(bound, kind) for kind in (str, datetime))


_ORDERINGS = {
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
}


async def count_calls(db: Db, api_id: str | None = None) -> int:
    """How many calls are stored (of one API, when given), in buckets and before them."""
    query = {} if api_id is None else {"api_id": api_id}
    stored = db[CALLS].find(query, {"count": 1})
    bucketed: int = sum([doc["count"] async for doc in stored])
    return bucketed + await db[COLLECTION].count_documents(query)
