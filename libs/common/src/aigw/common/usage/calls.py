"""The per-call usage records both management services answer with (an API's calls for its
publisher, an application's for its developer): newest first, filtered, paged by an opaque
cursor. Each service's endpoint keeps only its own access rule and the subject of its list.

The order is (time, record id), newest first; the cursor names the last record a page held, so
the next page starts right after it, however many calls arrived meanwhile: paging to the end
shows every record of the filter once, without repeats or gaps."""

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from pydantic import ConfigDict, Field, field_validator

from aigw.common.errors import InvalidInput
from aigw.common.events import KeyType
from aigw.common.schemas import CamelModel, Collection
from aigw.common.usage import store
from aigw.common.usage.outcome import Outcome, outcome, status_query
from aigw.common.usage.report import Names, window_bounds

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
_CURSOR_PREFIX = "c1:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_STATUS = re.compile(r"^([1-5])(\d\d|xx)$")

CALLS_DESCRIPTION = (
    "Newest first (by the time the call started), `limit` per page; `nextCursor` fetches the "
    "next, older, page (null on the last). Filters are exact and combine: `requestId` (the "
    "`x-request-id` the gateway answered with; records made before request ids have none), "
    "`status` (a code, `429`, or a class, `4xx`), `outcome` (`served`: below 400; `refused`: "
    "4xx but 499; `abandoned`: 499, the caller went away; `error`: 5xx), `model` (the model that served the call, else the one asked "
    "for), `keyType`, and the half-open window [from, to) (times without a zone are UTC; "
    "no default: all the records kept). A query parameter the endpoint does not know, or a "
    "cursor it did not hand out, is a 422. `estimated` marks a call whose token counts the "
    "gateway estimated because the provider reported none."
)


class CallsQuery(CamelModel):
    """The query of a calls list: an unknown parameter is a 422 naming it."""

    model_config = ConfigDict(extra="forbid")

    request_id: str | None = Field(
        None, max_length=200, description="The calls with this `x-request-id`"
    )
    status: str | None = Field(None, description="A status code (`429`) or class (`4xx`)")
    outcome: Outcome | None = Field(None, description="What became of the call")
    model: str | None = Field(None, max_length=200, description="The model that served it")
    key_type: KeyType | None = Field(None, description="The key's type")
    from_: datetime | None = Field(None, alias="from", description="Calls at or after this time")
    to: datetime | None = Field(None, description="Calls before this time")
    cursor: str | None = Field(None, description="The `nextCursor` of the previous page")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Calls per page")

    @field_validator("status")
    @classmethod
    def _a_status(cls, value: str | None) -> str | None:
        if value is not None and not _STATUS.match(value):
            raise ValueError("must be a status code (429) or a class (4xx)")
        return value


class CallRecord(CamelModel):
    """One call through a gateway, as its usage record says."""

    record_id: str = Field(description="the gateway's own id of the record (the order's tie-break)")
    request_id: str | None = Field(
        None, description="the x-request-id the caller got (null: recorded before request ids)"
    )
    time: datetime
    api_id: str
    api_name: str | None = Field(None, description="the API's name, where it is known")
    application_id: str
    application_name: str | None = Field(None, description="the application's name, if known")
    key_type: KeyType
    model: str = Field(description="the model that served the call, else the one asked for")
    requested_model: str | None = None
    served_model: str | None = None
    status: int
    outcome: Outcome
    stream: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = Field(False, description="token counts estimated: the provider gave none")
    gateway_latency_ms: float = 0.0
    provider_latency_ms: float = 0.0
    time_to_first_token_ms: float | None = None
    target: str | None = Field(None, description="the endpoint that answered, when routed")
    cache: str | None = Field(None, description="the response cache's outcome, if it has one")
    tokens_saved: int = 0
    guardrail: str | None = Field(None, description="the guardrail that intervened, if one did")
    guardrail_direction: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        fields = {name: doc[name] for name in cls.model_fields if name in doc}
        return cls(**{**fields, "record_id": str(doc["_id"]), "outcome": outcome(doc["status"])})


class CallsPage(Collection[CallRecord]):
    next_cursor: str | None = Field(description="fetches the next, older, page; null: the last")


def status_condition(text: str) -> dict[str, Any]:
    """`429` -> that code; `4xx` -> the class (400 to 499)."""
    found = _STATUS.match(text)
    if found is None:
        raise InvalidInput("'status' must be a status code (429) or a class (4xx)")
    if found.group(2) != "xx":
        return {"status": int(text)}
    low = int(found.group(1)) * 100
    return {"status": {"$gte": low, "$lt": low + 100}}


def conditions(subject: dict[str, str], query: CallsQuery) -> dict[str, Any]:
    """The `find` filter of a query on `subject`'s records (e.g. `{"api_id": ...}`), before
    paging."""
    parts: list[dict[str, Any]] = [dict(subject)]
    if query.request_id is not None:
        # the caller's x-request-id (a caller may send one twice: then both calls match)
        parts.append({"request_id": query.request_id})
    if query.status is not None:
        parts.append(status_condition(query.status))
    if query.outcome is not None:
        parts.append(status_query(query.outcome))
    if query.model is not None:
        parts.append({"model": query.model})
    if query.key_type is not None:
        parts.append({"key_type": query.key_type})
    start, end = window_bounds(query.from_, query.to)
    if start is not None or end is not None:
        span = {"$gte": start} if start is not None else {}
        parts.append({"time": {**span, **({"$lt": end} if end is not None else {})}})
    return parts[0] if len(parts) == 1 else {"$and": parts}


def encode_cursor(time: datetime, record_id: str) -> str:
    millis = (time.astimezone(UTC) - _EPOCH) // _MS
    text = f"{_CURSOR_PREFIX}{millis}|{record_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (time, record id) a cursor names; 422 for anything this API did not hand out."""
    invalid = InvalidInput("'cursor' is not a cursor this API gave out")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    millis, _, record_id = text.removeprefix(_CURSOR_PREFIX).partition("|")
    if not text.startswith(_CURSOR_PREFIX) or not millis.isdigit() or len(millis) > 15:
        raise invalid
    if not record_id:
        raise invalid
    return _EPOCH + int(millis) * _MS, record_id


async def calls(
    db: store.Db,
    subject: dict[str, str],
    query: CallsQuery,
    api_names: Names | None = None,
    application_names: Names | None = None,
) -> CallsPage:
    """A page of `subject`'s calls matching `query`, named where `*_names` know the ids."""
    after = decode_cursor(query.cursor) if query.cursor is not None else None
    window = window_bounds(query.from_, query.to)
    match = conditions(subject, query)
    docs = await store.calls(db, subject, match, after, query.limit + 1, window)
    page, more = docs[: query.limit], len(docs) > query.limit
    records = [CallRecord.from_doc(doc) for doc in page]
    await _name(records, api_names, application_names)
    last = page[-1] if page and more else None
    cursor = encode_cursor(last["time"], str(last["_id"])) if last is not None else None
    return CallsPage(count=len(records), list=records, next_cursor=cursor)


async def _name(
    records: list[CallRecord], api_names: Names | None, application_names: Names | None
) -> None:
    if api_names is not None:
        apis = await api_names(sorted({r.api_id for r in records}))
        for r in records:
            r.api_name = apis.get(r.api_id)
    if application_names is not None:
        apps = await application_names(sorted({r.application_id for r in records}))
        for r in records:
            r.application_name = apps.get(r.application_id)
