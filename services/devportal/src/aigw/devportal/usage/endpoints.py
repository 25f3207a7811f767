"""`GET /applications/{id}/usage`: what one of the caller's applications used, per model, API,
hour or status, and `GET /applications/{id}/usage/calls`: its calls one by one, from the
gateways' usage records."""

from typing import Annotated

from fastapi import APIRouter, Query

from aigw.common.usage.calls import CALLS_DESCRIPTION, CallsPage, CallsQuery
from aigw.common.usage.report import COUNTERS_DESCRIPTION, From, To
from aigw.devportal.deps import CurrentActor, Usage
from aigw.devportal.usage.schemas import GroupBy, UsageReport

router = APIRouter(prefix="/applications", tags=["usage"])


@router.get(
    "/{app_id}/usage",
    summary="Usage of one of the caller's applications",
    description=(
        "Requests and tokens of the application's calls through the gateways in the half-open "
        "window [from, to) (default: the 30 days before now; times without a zone are UTC): the "
        "totals, and the same counters per `groupBy` group: `model`, `api` (the API's id, with "
        "its `name` and version), `hour` (the UTC hour the call started, e.g. "
        "`2026-03-01T10:00:00Z`; hours without calls are left out) or `status` (the status "
        "code the gateway answered with)." + COUNTERS_DESCRIPTION
    ),
)
async def application_usage(
    app_id: str,
    actor: CurrentActor,
    usage: Usage,
    from_: From = None,
    to: To = None,
    group_by: Annotated[GroupBy, Query(alias="groupBy")] = "model",
) -> UsageReport:
    return await usage.report(actor, app_id, from_, to, group_by)


@router.get(
    "/{app_id}/usage/calls",
    summary="Calls of one of the caller's applications",
    description=(
        "The application's calls through the gateways one by one, as the gateways recorded "
        "them: when, to which API (id, name and version) with which key type, the model, the "
        "status and its outcome, the tokens, the latencies, the cache's and guardrails' part. "
        + CALLS_DESCRIPTION
        + " Only the application's owner sees them; anyone else's application is a 404."
    ),
)
async def application_calls(
    app_id: str,
    actor: CurrentActor,
    usage: Usage,
    query: Annotated[CallsQuery, Query()],
) -> CallsPage:
    return await usage.calls(actor, app_id, query)
