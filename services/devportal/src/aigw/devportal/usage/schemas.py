"""The devportal's usage report: one application's, grouped by model, API, hour or status (the shape
is shared in aigw.common.usage.report)."""

from typing import Literal

from aigw.common.usage.report import UsageReportBase

GroupBy = Literal["model", "api", "hour", "status"]


class UsageReport(UsageReportBase[GroupBy]):
    application_id: str
