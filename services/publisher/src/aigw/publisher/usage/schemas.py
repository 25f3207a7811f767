"""The publisher's usage report: one API's, grouped by model, application, hour or status (the
shape is shared in aigw.common.usage.report)."""

from typing import Literal

from aigw.common.usage.report import UsageReportBase

GroupBy = Literal["model", "application", "hour", "status"]


class UsageReport(UsageReportBase[GroupBy]):
    api_id: str
