"""The usage report both management services answer with: totals over a time window, and the
same counters per group. Each service's endpoint keeps only its own access rule, the subject
of its report (an API, an application) and the groupings it offers."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
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
    "response side). Each call counts in one outcome: `served` (answered, status below 400), "
    "`refused` (4xx but 499: a bad key, no subscription, a quota, a guardrail), `abandoned` "
    "(499: the caller went away before the answer was complete) or `errors` (5xx: the gateway "
    "or the provider failed); `estimated` counts the calls whose tokens the gateway estimated "
    "because the provider reported none. `groupBy=status` groups by the status code. Groups "
    "of APIs and applications carry their `name` where it is known (null otherwise)."
)

# ids -> their readable names (an API's, an application's); ids it does not know are left out
Names = Callable[[Sequence[str]], Awaitable[dict[str, str]]]

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
    served: int = Field(0, description="calls answered (status below 400)")
    refused: int = Field(0, description="calls refused (4xx, but 499)")
    abandoned: int = Field(0, description="calls the caller gave up on (499)")
    errors: int = Field(0, description="calls that failed (5xx)")
    estimated: int = Field(0, description="calls whose tokens were estimated, not reported")

    @classmethod
    def total_of(cls, groups: list["UsageGroup"]) -> Self:
        return cls(**{name: sum(getattr(g, name) for g in groups) for name in cls.model_fields})


class UsageGroup(UsageCounters):
    key: str
    name: str | None = Field(
        None, description="the API's or application's name, where known (null for other groups)"
    )

    @classmethod
    def from_row(cls, row: dict[str, Any], name: str | None = None) -> Self:
        counts = {field: row[field] for field in UsageCounters.model_fields}
        return cls(key=str(row["key"]), name=name, **counts)


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
    names: Mapping[str, Names] | None = None,
) -> R:
    """The report on `subject`'s records (e.g. `{"api_id": ...}`: the records' field, and the
    report's field of the same name) in the window [start, end), grouped by `group_by`;
    `names[group_by]`, when given, names the groups' keys (`api`, `application`)."""
    start, end = window(start, end)
    rows = await store.grouped_totals(db, subject, start, end, group_by)
    namer = (names or {}).get(group_by)
    known = await namer([str(row["key"]) for row in rows]) if namer and rows else {}
    groups = [UsageGroup.from_row(row, known.get(str(row["key"]))) for row in rows]
    totals = UsageCounters.total_of(groups)
    fields = {"from_": start, "to": end, "group_by": group_by, "totals": totals, "groups": groups}
    return model.model_validate({**subject, **fields})


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The half-open window [from, to): `to` defaults to now, `from` to 30 days before it;
    times without a zone are UTC."""
    start, end = window_bounds(start, end)
    end = end if end is not None else datetime.now(UTC)
    start = start if start is not None else end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidInput("'from' must be earlier than 'to'")
    return start, end


def window_bounds(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The bounds as given, in UTC (times without a zone are UTC); 422 if `from` is not
    earlier than `to`."""
    start = _utc(start) if start is not None else None
    end = _utc(end) if end is not None else None
    if start is not None and end is not None and start >= end:
        raise InvalidInput("'from' must be earlier than 'to'")
    return start, end


def _utc(time: datetime) -> datetime:
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)
