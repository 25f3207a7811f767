"""The usage store: raw per-call records (`usage`) and per-minute rollups (`usage_rollups`).

Records arrive in batches (aigw.usage.recorded) that JetStream may deliver more than once.

- `usage`: one document per call, keyed by its record id (the gateway's own, never the
  caller's request id), carrying the id of the batch that brought it. The calls lists read it;
  it is kept `AIGW_USAGE_CALLS_RETENTION_DAYS` (a TTL index on `time`). Plain unordered
  inserts: a redelivered record is refused as a duplicate id, the others still go in.
- `usage_rollups`: per batch, one document per (minute, API, application, key type, model,
  status) of its calls, with their counts and token sums; the reports read only these (a `find` summed here,
  never a `$group` over the raw records), so they answer at any number of calls. Kept
  `AIGW_USAGE_RETENTION_DAYS` (TTL on `minute`).

A batch is stored in two writes, both plain unordered inserts: its records (one
`insert_many`), then its rollups (one `insert_many` of one document per rollup key of the
batch, the batch's records grouped by key first; `_id`: the batch id and the key). Exactly
once, however often the batch arrives and wherever a consumer dies:

- the records a batch counts are those its own insert stored: new ones, and duplicates whose
  stored `batch_id` is this batch's (left by an earlier attempt that died before its rollups);
  a record another batch stored first is that batch's to count;
- a batch's rollups are a function of the records it counts, under ids of its own: a
  redelivered batch writes the same documents again, refused as duplicates, and a batch that
  died halfway through its rollups completes the rest. There is no window between two writes
  in which a crash double-counts or loses a call.

Why inserts, not `$inc` upserts of one document per minute and key: on the embedded store
(mongoeco, `make run`) an update costs 2.5 ms or more (one commit and worker thread each) and
an update guarded by the batch id (`batches: {$ne: id}`) scans the collection, while a batch
of inserts is one transaction; measured with `aigw.devtools.bench_usage_ingest`, `$inc`
upserts cost more store CPU per record than the raw record itself. A report sums a minute's
rollups per key (one per batch that had calls of that key in that minute): some tens of
documents per batch of 200 calls, against 200 raw records.

Records stored before rollups existed (no `batch_id`) are folded once into rollups of their
own (`legacy:` ids, written with `$set`, so a rerun rewrites the same totals) by
`backfill_rollups`.
"""

import contextlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from aigw.common.events import UsageRecord
from aigw.common.usage.outcome import COUNTER_NAMES, outcome

COLLECTION = "usage"
ROLLUPS = "usage_rollups"
META = "usage_meta"  # what the store records of itself (the backfill's marker)
DUPLICATE_KEY = 11000  # MongoDB's error code
RETENTION_INDEX = "usage_retention"  # the raw records' TTL index
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
# the calls lists' order, newest first (the record id breaks ties between calls of one ms)
CALL_ORDER = [("time", -1), ("_id", -1)]
# a subject's records in the calls' order; serves the calls' time windows as well
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
    """Have the store delete raw records older than `days` (a TTL index on `time`); 0 keeps
    them all. A changed setting replaces the index (MongoDB's TTL monitor applies it within a
    minute or so)."""
    await _ttl(db, COLLECTION, "time", RETENTION_INDEX, days)


async def _ttl(db: Db, collection: str, on: str, name: str, days: int) -> None:
    coll = db[collection]
    seconds = days * 86_400
    current = (await coll.index_information()).get(name)
    if current is not None and current.get("expireAfterSeconds") == seconds:
        return
    if current is not None:
        with contextlib.suppress(OperationFailure):  # another instance dropped it first
            await coll.drop_index(name)
    if seconds:
        await coll.create_index(on, expireAfterSeconds=seconds, name=name)


def _utc(time: datetime) -> datetime:
    return time.astimezone(UTC) if time.tzinfo is not None else time.replace(tzinfo=UTC)


def hour_key(time: datetime) -> str:
    return _utc(time).strftime("%Y-%m-%dT%H:00:00Z")


def minute_of(time: datetime) -> datetime:
    return _utc(time).replace(second=0, microsecond=0)


def model_of(record: UsageRecord) -> str:
    return record.served_model or record.requested_model or "unknown"


def to_doc(record: UsageRecord, batch_id: str | None = None) -> dict[str, Any]:
    """The raw record as stored (without its `_id`): its fields but those it has no value of
    (fewer fields, less to write: the calls lists read a missing one as null), the model it
    is listed by, and the batch that brought it."""
    doc = record.model_dump(exclude={"record_id"}, exclude_none=True)
    doc["model"] = model_of(record)
    if batch_id is not None:
        doc["batch_id"] = batch_id
    return doc


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
    """Store a batch's records and its rollups, once however often the batch arrives (see the
    module's docstring); returns how many records the batch counts."""
    if not records:
        return 0
    duplicates = await _insert_records(db, batch_id, records)
    if duplicates:
        # stored before: by an earlier attempt at this batch (then ours to count) or another
        ids = [records[i].record_id for i in duplicates]
        found = db[COLLECTION].find({"_id": {"$in": ids}, "batch_id": batch_id}, {"_id": 1})
        ours = {doc["_id"] async for doc in found}
        counted = [r for i, r in enumerate(records) if i not in duplicates or r.record_id in ours]
    else:
        counted = records
    await _insert_rollups(db, batch_id, rollups(counted))
    return len(counted)


async def store_records(db: Db, records: list[UsageRecord]) -> int:
    """`store_batch` of records that came in no batch of their own (a tool, a test): a new
    batch id; returns how many were new."""
    return await store_batch(db, uuid.uuid4().hex, records)


async def _insert_records(db: Db, batch_id: str, records: list[UsageRecord]) -> set[int]:
    """Insert the records; the indexes (in `records`) of those stored before."""
    docs = [{"_id": r.record_id, **to_doc(r, batch_id)} for r in records]
    try:
        await db[COLLECTION].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        details = exc.details
        errors = details.get("writeErrors", [])
        if details.get("writeConcernErrors") or any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise  # not (only) records stored before: the batch is redelivered
        return {int(e["index"]) for e in errors}
    return set()


async def _insert_rollups(db: Db, batch_id: str, increments: list[Rollup]) -> None:
    """The batch's rollups, one insert; those written before (a redelivery) are refused."""
    if not increments:
        return
    docs = [{"_id": f"{batch_id}:{r.id}", **r.fields(), **r.sums} for r in increments]
    try:
        await db[ROLLUPS].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        details = exc.details
        errors = details.get("writeErrors", [])
        if details.get("writeConcernErrors") or any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise


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


async def calls(
    db: Db, match: dict[str, Any], after: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` records matching `match`, newest first (`CALL_ORDER`), starting after the
    record at `after` (its time and id) when given."""
    if after is not None:
        time, record_id = after
        later = {"$or": [{"time": {"$lt": time}}, {"time": time, "_id": {"$lt": record_id}}]}
        match = {"$and": [match, later]}
    found = db[COLLECTION].find(match, sort=CALL_ORDER, limit=limit)
    return await found.to_list()
