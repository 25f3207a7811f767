"""`GET /apis/{id}/usage`: where an API's tokens went, and `GET /apis/{id}/usage/calls`: its
calls one by one, from the gateways' usage records."""

from typing import Annotated

from fastapi import APIRouter, Query

from aigw.common.usage.calls import CALLS_DESCRIPTION, CallsPage, CallsQuery
from aigw.common.usage.report import COUNTERS_DESCRIPTION, From, To
from aigw.publisher.deps import CurrentActor, Usage
from aigw.publisher.usage.schemas import GroupBy, UsageReport

router = APIRouter(prefix="/apis", tags=["usage"])


@router.get(
    "/{api_id}/usage",
    summary="Usage of one API",
    description=(
        "Requests and tokens of the API's calls through the gateways in the half-open window "
        "[from, to) (default: the 30 days before now; times without a zone are UTC): the totals, "
        "and the same counters per `groupBy` group: `model` (the model that served the call), "
        "`application` (the calling application's id, with its `name`), `hour` (the UTC hour "
        "the call started, e.g. `2026-03-01T10:00:00Z`; hours without calls are left out) or "
        "`status` (the status code the gateway answered with)." + COUNTERS_DESCRIPTION
    ),
)
async def api_usage(
    api_id: str,
    actor: CurrentActor,
    usage: Usage,
    from_: From = None,
    to: To = None,
    group_by: Annotated[GroupBy, Query(alias="groupBy")] = "model",
) -> UsageReport:
    return await usage.report(actor, api_id, from_, to, group_by)


@router.get(
    "/{api_id}/usage/calls",
    summary="Calls of one API",
    description=(
        "The API's calls through the gateways one by one, as the gateways recorded them: when, "
        "which application (id and name) with which key type, the model, the status and its "
        "outcome, the tokens, the latencies, the cache's and guardrails' part. "
        + CALLS_DESCRIPTION
        + " For the API's owners and co-owners (and admins); anyone else's API is a 404."
    ),
)
async def api_calls(
    api_id: str,
    actor: CurrentActor,
    usage: Usage,
    query: Annotated[CallsQuery, Query()],
) -> CallsPage:
    return await usage.calls(actor, api_id, query)
