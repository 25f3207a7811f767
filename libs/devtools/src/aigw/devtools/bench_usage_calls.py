"""How fast the per-call usage lists answer on the embedded store (mongoeco: in memory, as the
tests use it, or with `--sqlite PATH` on a SQLite file, as `make run` without MONGODB_URL
does): `--records` usage records (default 16,000)
of one API, spread over a day, then the calls query's first page, a page deep in the list
(by cursor), each filter, paging through every record, and the summary report.

    .venv/bin/python -m aigw.devtools.bench_usage_calls [--records 16000] [--repeat 20]
        [--sqlite /tmp/usage-bench.sqlite]

A measurement, not a test: it prints the median and the slowest of `--repeat` runs per query.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aigw.common.events import UsageRecord
from aigw.common.mongo import create_client
from aigw.common.usage import store
from aigw.common.usage.calls import CallsQuery, calls
from aigw.common.usage.report import UsageReportBase, usage_report
from aigw.devtools.processes import free_port, mongo_store

API = "bench-api"
STATUSES = [200] * 90 + [429] * 5 + [401, 446, 499, 500, 502]


class Report(UsageReportBase[str]):
    api_id: str


def records(count: int, start: datetime) -> list[UsageRecord]:
    spacing = timedelta(days=1) / count
    return [
        UsageRecord(
            record_id=uuid.uuid4().hex,
            request_id=uuid.uuid4().hex,
            time=start + i * spacing,
            api_id=API if i % 8 else f"other-{i % 5}",  # 7 in 8 are the measured API's
            application_id=f"app-{i % 40}",
            key_type="SANDBOX" if i % 10 == 0 else "PRODUCTION",
            requested_model="mistral-small-latest",
            served_model="mistral-large" if i % 7 == 0 else "mistral-small-2409",
            status=STATUSES[i % len(STATUSES)],
            prompt_tokens=20,
            completion_tokens=40,
            total_tokens=60,
        )
        for i in range(count)
    ]


async def timed(repeat: int, run: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times)


async def measure(url: str, count: int, repeat: int) -> None:
    # the services' 1 s timeouts: a slow query on a busy machine would end the run, not time it
    mongo = create_client(url, timeout_ms=30_000)
    db = mongo["bench_usage_calls"]
    try:
        await store.ensure_indexes(db)
        start = datetime(2026, 3, 1, tzinfo=UTC)
        made = records(count, start)
        began = time.perf_counter()
        for i in range(0, count, 500):  # as the gateways' batches arrive
            await store.store_records(db, made[i : i + 500])
        print(f"stored {count:,} records in {time.perf_counter() - began:.1f} s")
        subject = {"api_id": API}
        mine = sum(1 for r in made if r.api_id == API)
        deep = await calls(db, subject, CallsQuery(limit=200))
        for _ in range(10):  # the cursor of page 11 of 200
            deep = await calls(db, subject, CallsQuery(limit=200, cursor=deep.next_cursor))

        async def every_page() -> int:
            seen, cursor = 0, None
            while True:
                page = await calls(db, subject, CallsQuery(limit=200, cursor=cursor))
                seen += page.count
                cursor = page.next_cursor
                if cursor is None:
                    return seen

        assert await every_page() == mine
        cases: dict[str, Callable[[], Awaitable[Any]]] = {
            "first page (50)": lambda: calls(db, subject, CallsQuery()),
            "first page (200)": lambda: calls(db, subject, CallsQuery(limit=200)),
            "page 12 of 200, by cursor": lambda: calls(
                db, subject, CallsQuery(limit=200, cursor=deep.next_cursor)
            ),
            "status=5xx": lambda: calls(db, subject, CallsQuery(status="5xx")),
            "outcome=refused": lambda: calls(db, subject, CallsQuery(outcome="refused")),
            "model + keyType": lambda: calls(
                db, subject, CallsQuery(model="mistral-large", key_type="SANDBOX")
            ),
            "requestId": lambda: calls(
                db, subject, CallsQuery(request_id=made[count // 2 + 1].request_id)
            ),
            "one hour (from/to)": lambda: calls(
                db,
                subject,
                CallsQuery.model_validate(
                    {"from": start + timedelta(hours=12), "to": start + timedelta(hours=13)}
                ),
            ),
            f"every page of 200 ({mine:,} calls)": every_page,
            "report groupBy=status": lambda: usage_report(
                Report, db, subject, start, start + timedelta(days=1), "status"
            ),
        }
        print(f"{'query':<34} {'median ms':>10} {'max ms':>10}")
        for name, run in cases.items():
            median, slowest = await timed(repeat, run)
            print(f"{name:<34} {median:>10.1f} {slowest:>10.1f}")
    finally:
        await mongo.drop_database("bench_usage_calls")
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=16_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sqlite", type=Path, default=None, help="a new SQLite file to use")
    args = parser.parse_args()
    server = mongo_store(free_port(), args.sqlite)
    server.start()
    try:
        server.wait_ready()
        asyncio.run(
            measure(
                f"mongodb://127.0.0.1:{server.port}/?directConnection=true",
                args.records,
                args.repeat,
            )
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
