"""`GET /applications/{id}/usage`: what one of the caller's applications used, per model, API
or hour, from the gateways' usage records."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from aigw.common.usage import store
from aigw.devportal.applications.access import owned_application
from aigw.devportal.deps import CurrentActor, Db
from aigw.devportal.usage.schemas import UsageCounters, UsageGroup, UsageReport, window

router = APIRouter(prefix="/applications", tags=["usage"])
GroupBy = Literal["model", "api", "hour"]


@router.get(
    "/{app_id}/usage",
    summary="Usage of one of the caller's applications",
    description=(
        "Requests and tokens of the application's calls through the gateways in the half-open "
        "window [from, to) (default: the 30 days before now; times without a zone are UTC): the "
        "totals, and the same counters per `groupBy` group: `model`, `api` (the API's id) or "
        "`hour` (the UTC hour the call started, e.g. `2026-03-01T10:00:00Z`; hours without "
        "calls are left out)."
    ),
)
async def application_usage(
    app_id: str,
    actor: CurrentActor,
    db: Db,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
    group_by: Annotated[GroupBy, Query(alias="groupBy")] = "model",
) -> UsageReport:
    await owned_application(db, actor, app_id)  # someone else's is 404
    start, end = window(from_, to)
    rows = await store.grouped_totals(db, {"application_id": app_id}, start, end, group_by)
    groups = [UsageGroup.from_row(row) for row in rows]
    return UsageReport(
        application_id=app_id,
        from_=start,
        to=end,
        group_by=group_by,
        totals=UsageCounters.total_of(groups),
        groups=groups,
    )
