"""The publisher's usage report: counters and window shared in aigw.common.usage.report."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from aigw.common.schemas import CamelModel
from aigw.common.usage.report import UsageCounters, UsageGroup, window

__all__ = ["UsageCounters", "UsageGroup", "UsageReport", "window"]


class UsageReport(CamelModel):
    api_id: str
    from_: datetime = Field(alias="from")
    to: datetime
    group_by: Literal["model", "application", "hour"]
    totals: UsageCounters
    groups: list[UsageGroup]
