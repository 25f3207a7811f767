"""The reports read per-minute rollups: for random records, the rollups' sums per group equal
a report computed straight from the raw records, for every grouping and any minute window."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aigw.common.events import UsageRecord
from aigw.common.usage import store
from aigw.common.usage.outcome import COUNTER_NAMES, outcome
from tests.support.usage import record

START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
STATUSES = [200, 200, 200, 201, 304, 400, 401, 429, 446, 499, 500, 502]


def random_records(seed: int, count: int) -> list[UsageRecord]:
    rnd = random.Random(seed)
    made = []
    for _ in range(count):
        cache = rnd.choice([None, "hit", "miss", "bypass"])
        made.append(
            record(
                rnd.choice(["api-1", "api-2"]),
                rnd.choice(["app-a", "app-b", "app-c"]),
                time=START + timedelta(seconds=rnd.uniform(0, 3 * 3600)),
                key_type=rnd.choice(["PRODUCTION", "SANDBOX"]),
                served_model=rnd.choice(["m-small", "m-large", None]),
                requested_model=rnd.choice(["m-latest", None]),
                status=rnd.choice(STATUSES),
                prompt_tokens=rnd.randint(0, 500),
                completion_tokens=rnd.randint(0, 500),
                cache=cache,
                cached=cache == "hit",
                tokens_saved=rnd.randint(1, 90) if cache == "hit" else 0,
                guardrail=rnd.choice([None, None, "no-secrets"]),
                estimated=rnd.random() < 0.2,
            )
        )
    return made


def raw_report(
    records: list[UsageRecord], api: str, start: datetime, end: datetime, group_by: str
) -> list[dict[str, Any]]:
    """What the report said when it grouped the raw records (the old `$group`)."""
    groups: dict[Any, dict[str, Any]] = {}
    for r in records:
        if r.api_id != api or not start <= r.time < end:
            continue
        key = {
            "model": store.model_of(r),
            "application": r.application_id,
            "api": r.api_id,
            "hour": store.hour_key(r.time),
            "status": r.status,
        }[group_by]
        group = groups.setdefault(key, {"key": key, **dict.fromkeys(store.COUNTERS, 0)})
        group["requests"] += 1
        for name in ("prompt_tokens", "completion_tokens", "total_tokens", "tokens_saved"):
            group[name] += getattr(r, name)
        group["cache_hits"] += r.cache == "hit"
        group["cache_misses"] += r.cache == "miss"
        group["cache_bypasses"] += r.cache == "bypass"
        group["guardrail_interventions"] += r.guardrail is not None
        group["estimated"] += r.estimated
        group[COUNTER_NAMES[outcome(r.status)]] += 1
    return sorted(groups.values(), key=lambda group: str(group["key"]))


def rollup_report(
    rollups: list[store.Rollup], api: str, start: datetime, end: datetime, group_by: str
) -> list[dict[str, Any]]:
    """As `store.grouped_totals` reads the rollups: the subject's minutes in the window."""
    docs = [{**r.fields(), **r.sums} for r in rollups]
    chosen = [d for d in docs if d["api_id"] == api and start <= d["minute"] < end]
    return store.sum_rollups(chosen, group_by)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("group_by", sorted(store.GROUP_FIELDS))
def test_the_rollups_report_what_the_raw_records_do(seed: int, group_by: str) -> None:
    records = random_records(seed, 600)
    rnd = random.Random(seed)
    # batches of random sizes, as the gateways send them: one rollup per key per batch
    rollups: list[store.Rollup] = []
    at = 0
    while at < len(records):
        size = rnd.randint(1, 80)
        rollups += store.rollups(records[at : at + size])
        at += size
    whole = (START, START + timedelta(hours=3))
    minutes = sorted(rnd.sample(range(180), 2))
    window = (START + timedelta(minutes=minutes[0]), START + timedelta(minutes=minutes[1] + 1))
    for start, end in (whole, window):
        for api in ("api-1", "api-2"):
            assert rollup_report(rollups, api, start, end, group_by) == raw_report(
                records, api, start, end, group_by
            )


def test_a_rollup_is_one_key_of_one_minute() -> None:
    at = START + timedelta(seconds=30)
    made = [
        record("api", "app", time=at, prompt_tokens=1),
        record("api", "app", time=at + timedelta(seconds=29), prompt_tokens=2),
        record("api", "app", time=at + timedelta(seconds=30), prompt_tokens=4),  # next minute
        record("api", "app", time=at, prompt_tokens=8, status=429),
        record("api", "app", time=at, prompt_tokens=16, key_type="SANDBOX"),
        record("api", "app", time=at, prompt_tokens=32, served_model="other"),
    ]
    sums = {(r.minute, r.key_type, r.model, r.status): r.sums for r in store.rollups(made)}
    assert len(sums) == 5
    first = sums[(START, "PRODUCTION", "mistral-small-2409", 200)]
    assert (first["requests"], first["prompt_tokens"]) == (2, 3)
    assert len({r.id for r in store.rollups(made)}) == 5
