"""The usage report both management services answer with: totals over a time window, and the
same counters per group. Each service's endpoint keeps only its own access rule, the subject
of its report (an API, an application) and the groupings it offers."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self

from fastapi import Query
from pydantic import Field

from aigw.common.errors import InvalidInput
from aigw.common.schemas import CamelModel
from aigw.common.usage import store

DEFAULT_WINDOW = timedelta(days=30)
# What every usage endpoint's description says of the counters beyond requests and tokens.
COUNTERS_DESCRIPTION = (
    " Beside requests and tokens, the counters say how the response cache did (`cacheHits`: "
    "answered from the cache, spending no tokens, `tokensSaved` being what the cached answers "
    "cost when first served; `cacheMisses`; `cacheBypasses`: `Cache-Control: no-cache`) and "
    "how often a guardrail intervened (`guardrailInterventions`, the 446 answers, request or "
    "response side)."
)

# The window's query parameters, spelled the same on every usage endpoint.
From = Annotated[datetime | None, Query(alias="from")]
To = Annotated[datetime | None, Query()]


class UsageCounters(CamelModel):
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cache_hits: int = Field(0, description="calls answered from the response cache")
    cache_misses: int = Field(0, description="calls the cache could not answer (then stored)")
    cache_bypasses: int = Field(0, description="calls that skipped the cache (no-cache)")
    tokens_saved: int = Field(0, description="tokens the cache hits did not spend again")
    guardrail_interventions: int = Field(
        0, description="calls a guardrail refused (446), on the request or the response"
    )

    @classmethod
    def total_of(cls, groups: list["UsageGroup"]) -> Self:
        return cls(**{name: sum(getattr(g, name) for g in groups) for name in cls.model_fields})


class UsageGroup(UsageCounters):
    key: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        return cls(key=str(row["key"]), **{name: row[name] for name in UsageCounters.model_fields})


class UsageReportBase[G: str](CamelModel):
    """A service's `UsageReport` subclasses this with its `groupBy` choices and adds the id
    of what it reports on (named as in the usage records, e.g. `api_id`)."""

    from_: datetime = Field(alias="from")
    to: datetime
    group_by: G
    totals: UsageCounters
    groups: list[UsageGroup]


async def usage_report[R: UsageReportBase[Any]](
    model: type[R],
    db: store.Db,
    subject: dict[str, str],
    start: datetime | None,
    end: datetime | None,
    group_by: str,
) -> R:
    """The report on `subject`'s records (e.g. `{"api_id": ...}`: the records' field, and the
    report's field of the same name) in the window [start, end), grouped by `group_by`."""
    start, end = window(start, end)
    rows = await store.grouped_totals(db, subject, start, end, group_by)
    groups = [UsageGroup.from_row(row) for row in rows]
    totals = UsageCounters.total_of(groups)
    fields = {"from_": start, "to": end, "group_by": group_by, "totals": totals, "groups": groups}
    return model.model_validate({**subject, **fields})


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The half-open window [from, to): `to` defaults to now, `from` to 30 days before it;
    times without a zone are UTC."""
    end = _utc(end) if end is not None else datetime.now(UTC)
    start = _utc(start) if start is not None else end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidInput("'from' must be earlier than 'to'")
    return start, end


def _utc(time: datetime) -> datetime:
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)
