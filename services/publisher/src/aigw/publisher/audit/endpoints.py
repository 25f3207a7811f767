"""`GET /events`: the audit trail (under `/api/audit/v1`, see aigw.publisher.app)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from aigw.common.errors import ErrorBody
from aigw.publisher.audit.schemas import NDJSON, AuditPage, AuditQuery, Format
from aigw.publisher.deps import Audit, SignedIn

PREFIX = "/api/audit/v1"
MAX_LIMIT = 500

router = APIRouter(prefix="/events", tags=["audit"])

_DESCRIPTION = (
    "The management events of every service (APIs, vendors, plans, applications, "
    "subscriptions, keys, OAuth2 clients, accounts, signing keys), each as the CloudEvents "
    "envelope its service published on the event stream: who acted (`actor`), when, on what "
    "(`subject`) and for which request (`correlationid`). Events never carry a secret in "
    "plaintext.\n\n"
    "Filters are exact and combine: `subject` gives one entity's whole history (an API id, "
    "an application id, a key id), `applicationId` an application's with its subscriptions', "
    "keys' and OAuth2 clients', `correlationId` everything one request caused across the "
    "services. The window [from, to) is half-open; times without a zone are UTC.\n\n"
    "With `format=json` (the default) a page, newest first (in the order the stream recorded "
    "the events); `nextCursor` fetches the next, older, page. With `format=ndjson` every "
    "matching event, oldest first, one envelope per line (`application/x-ndjson`), streamed: "
    "the export for a SIEM (`cursor` and `limit` do not apply).\n\n"
    "Who sees what: an admin every event; a publisher the events of AI vendors, business "
    "plans and the APIs it owns or co-owns; a subscriber the history of its own applications, "
    "their subscriptions, keys and OAuth2 clients. A filter never widens that view: someone "
    "else's subject or correlation id answers an empty list.\n\n"
    "503 while the trail is being folded from the stream (at start, after a rebuild)."
)


@router.get(
    "",
    summary="Read the audit trail",
    description=_DESCRIPTION,
    response_model=AuditPage,
    responses={
        200: {
            "description": "A page of events (JSON), or every matching event (NDJSON)",
            "content": {NDJSON: {"schema": {"type": "string"}}},
        },
        503: {"model": ErrorBody, "description": "The trail is still being folded"},
    },
)
async def events(
    caller: SignedIn,
    audit: Audit,
    type_: Annotated[
        str | None, Query(alias="type", description="Event type, e.g. `aigw.api.deployed`")
    ] = None,
    subject: Annotated[
        str | None, Query(description="Entity id: an API, application, subscription or key id")
    ] = None,
    actor: Annotated[str | None, Query(description="Who acted (a username)")] = None,
    correlation_id: Annotated[
        str | None,
        Query(alias="correlationId", description="Every event of one request, in any service"),
    ] = None,
    application_id: Annotated[
        str | None,
        Query(
            alias="applicationId",
            description="An application's whole history: its own events and those of its "
            "subscriptions, keys and OAuth2 clients",
        ),
    ] = None,
    from_: Annotated[
        datetime | None, Query(alias="from", description="Events at or after this time")
    ] = None,
    to: Annotated[datetime | None, Query(description="Events before this time")] = None,
    cursor: Annotated[
        str | None, Query(description="The `nextCursor` of the previous page")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Events per page (JSON only)")
    ] = 50,
    format_: Annotated[
        Format,
        Query(alias="format", description="`json`: a page; `ndjson`: the whole range, streamed"),
    ] = "json",
) -> AuditPage | StreamingResponse:
    query = AuditQuery(type_, subject, actor, correlation_id, application_id, from_, to)
    if format_ == "ndjson":
        return StreamingResponse(await audit.export(caller, query), media_type=NDJSON)
    return await audit.page(caller, query, cursor, limit)
