"""The usage report: totals over a time window, and the same counters per group."""

from datetime import UTC, datetime, timedelta
from typing import Any, Self

from aigw.common.errors import InvalidInput
from aigw.common.schemas import CamelModel

DEFAULT_WINDOW = timedelta(days=30)


class UsageCounters(CamelModel):
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def total_of(cls, groups: list["UsageGroup"]) -> Self:
        return cls(**{name: sum(getattr(g, name) for g in groups) for name in cls.model_fields})


class UsageGroup(UsageCounters):
    key: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        return cls(key=str(row["key"]), **{name: row[name] for name in UsageCounters.model_fields})


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
