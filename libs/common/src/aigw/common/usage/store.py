"""The `usage` collection: one document per gateway call, keyed by its record id.

Records arrive in batches (aigw.usage.recorded) that JetStream may deliver more than once; the
record id (the gateway's own, never the caller's request id, which a caller may repeat) is the
document's `_id`, so a redelivered record is refused as a duplicate and nothing
is counted twice. (Plain inserts, not upserts: an insert needs no lookup first, which is cheaper
on MongoDB and keeps the embedded store's writes from slowing down as the collection grows.)
The grouping keys (`model`, `hour`) are stored with the record, which keeps the report a plain
`$match` + `$group` on stored fields.
"""

import contextlib
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from aigw.common.events import UsageRecord
from aigw.common.usage.outcome import COUNTER_NAMES, counted

COLLECTION = "usage"
DUPLICATE_KEY = 11000  # MongoDB's error code
RETENTION_INDEX = "usage_retention"
COUNTERS = ("prompt_tokens", "completion_tokens", "total_tokens", "tokens_saved")
# counter -> the records it counts (records stored before a field existed lack it: not counted)
COUNTED = {
    "cache_hits": {"$eq": ["$cache", "hit"]},
    "cache_misses": {"$eq": ["$cache", "miss"]},
    "cache_bypasses": {"$eq": ["$cache", "bypass"]},
    "guardrail_interventions": {"$ne": [{"$ifNull": ["$guardrail", None]}, None]},
    "estimated": {"$eq": ["$estimated", True]},
    **{name: counted(outcome) for outcome, name in COUNTER_NAMES.items()},
}
# groupBy value -> the stored field it groups on
GROUP_FIELDS = {
    "model": "model",
    "application": "application_id",
    "api": "api_id",
    "hour": "hour",
    "status": "status",
}
# the calls lists' order, newest first (the record id breaks ties between calls of one ms)
CALL_ORDER = [("time", -1), ("_id", -1)]
# a subject's records in the calls' order; serves the reports' time windows as well
SUBJECT_INDEXES = {
    "api_id": [("api_id", 1), *CALL_ORDER],
    "application_id": [("application_id", 1), *CALL_ORDER],
}
# what SUBJECT_INDEXES replace (a store made before the calls lists had these)
SUPERSEDED_INDEXES = ("api_id_1_time_1", "application_id_1_time_1")

Db = AsyncDatabase[dict[str, Any]]


async def ensure_indexes(db: Db, retention_days: int = 0) -> None:
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
    await ensure_retention(db, retention_days)


async def ensure_retention(db: Db, days: int) -> None:
    """Have the store delete records older than `days` (a TTL index on `time`); 0 keeps them
    all. A changed setting replaces the index (MongoDB's TTL monitor applies it within a
    minute or so)."""
    usage = db[COLLECTION]
    seconds = days * 86_400
    current = (await usage.index_information()).get(RETENTION_INDEX)
    if current is not None and current.get("expireAfterSeconds") == seconds:
        return
    if current is not None:
        with contextlib.suppress(OperationFailure):  # another instance dropped it first
            await usage.drop_index(RETENTION_INDEX)
    if seconds:
        await usage.create_index("time", expireAfterSeconds=seconds, name=RETENTION_INDEX)


def hour_key(time: datetime) -> str:
    utc = time.astimezone(UTC) if time.tzinfo is not None else time
    return utc.strftime("%Y-%m-%dT%H:00:00Z")


def to_doc(record: UsageRecord) -> dict[str, Any]:
    doc = record.model_dump(exclude={"record_id"})
    doc["model"] = record.served_model or record.requested_model or "unknown"
    doc["hour"] = hour_key(record.time)
    return doc


async def store_records(db: Db, records: list[UsageRecord]) -> int:
    """Insert the records not stored yet; returns how many were new. Records already stored
    (a redelivered batch) are refused as duplicate ids and skipped; the others still go in."""
    if not records:
        return 0
    docs = [{"_id": r.record_id, **to_doc(r)} for r in records]
    try:
        result = await db[COLLECTION].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        details = exc.details
        if details.get("writeConcernErrors") or any(
            error.get("code") != DUPLICATE_KEY for error in details.get("writeErrors", [])
        ):
            raise  # not (only) records stored before: the batch is redelivered
        inserted: int = details["nInserted"]
        return inserted
    return len(result.inserted_ids)


async def grouped_totals(
    db: Db, match: dict[str, Any], start: datetime, end: datetime, group_by: str
) -> list[dict[str, Any]]:
    """Per group: `key`, `requests`, the token counters (`COUNTERS`) and the counts of
    `COUNTED` of the records in [start, end)."""
    pipeline = [
        {"$match": {**match, "time": {"$gte": start, "$lt": end}}},
        {
            "$group": {
                "_id": f"${GROUP_FIELDS[group_by]}",
                "requests": {"$sum": 1},
                **{name: {"$sum": f"${name}"} for name in COUNTERS},
                **{name: {"$sum": {"$cond": [test, 1, 0]}} for name, test in COUNTED.items()},
            }
        },
    ]
    cursor = await db[COLLECTION].aggregate(pipeline)
    groups = [{**doc, "key": doc.pop("_id")} async for doc in cursor]
    return sorted(groups, key=lambda group: str(group["key"]))


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
