"""Reading the audit trail: a page of the events the caller may see (newest first, by stream
position), or all of them in a time range as NDJSON (oldest first, the order a SIEM ingests)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aigw.common.auth import Principal
from aigw.common.errors import InvalidInput, Unavailable
from aigw.common.mongo import Document
from aigw.publisher.apis.repository import ApiRepository
from aigw.publisher.audit import paging
from aigw.publisher.audit.follower import AuditFollower
from aigw.publisher.audit.repository import AuditRepository
from aigw.publisher.audit.schemas import AuditEvent, AuditPage, AuditQuery
from aigw.publisher.audit.visibility import Viewer, visible

NOT_CAUGHT_UP = "The audit trail is still being folded from the event stream: try again shortly"


class AuditService:
    def __init__(self, repo: AuditRepository, apis: ApiRepository, follower: AuditFollower) -> None:
        self._repo = repo
        self._apis = apis
        self._follower = follower

    async def page(
        self, principal: Principal, query: AuditQuery, cursor: str | None, limit: int
    ) -> AuditPage:
        conditions = await self._conditions(principal, query)
        if cursor is not None:
            conditions.append({"seq": {"$lt": paging.decode(cursor)}})
        docs = await self._repo.page(_all(conditions), limit + 1)
        more = len(docs) > limit
        docs = docs[:limit]
        events = [AuditEvent.model_validate_json(doc["raw"]) for doc in docs]
        next_cursor = paging.encode(docs[-1]["seq"]) if more else None
        return AuditPage(count=len(events), list=events, next_cursor=next_cursor)

    async def export(self, principal: Principal, query: AuditQuery) -> AsyncIterator[str]:
        """The matching events, oldest first, one JSON envelope per line. Checks (access,
        readiness) happen before the first line, so an error is still a proper answer."""
        conditions = await self._conditions(principal, query)
        return self._lines(_all(conditions))

    async def _lines(self, query: Document) -> AsyncIterator[str]:
        async for raw in self._repo.stream(query):
            yield raw + "\n"  # as published: compact JSON, one line

    async def _conditions(self, principal: Principal, query: AuditQuery) -> list[Document]:
        if not self._follower.caught_up:
            raise Unavailable(NOT_CAUGHT_UP)
        return [visible(await self._viewer(principal)), *_filters(query)]

    async def _viewer(self, principal: Principal) -> Viewer:
        if principal.has_any("admin") or not principal.has_any("publisher"):
            return Viewer(principal)
        managed = await self._apis.list(member=principal.subject)  # co-owned ones too
        return Viewer(principal, tuple(api["_id"] for api in managed))


def _filters(query: AuditQuery) -> list[Document]:
    exact = {
        "type": query.type,
        "subject": query.subject,
        "actor": query.actor,
        "correlationid": query.correlation_id,
        "application_id": query.application_id,
    }
    conditions: list[Document] = [{name: value} for name, value in exact.items() if value]
    start, end = _utc(query.start), _utc(query.end)
    if start is not None and end is not None and start >= end:
        raise InvalidInput("'from' must be earlier than 'to'")
    window = {op: t for op, t in (("$gte", start), ("$lt", end)) if t is not None}
    if window:
        conditions.append({"time": window})
    return conditions


def _utc(time: datetime | None) -> datetime | None:
    if time is None or time.tzinfo is not None:
        return time
    return time.replace(tzinfo=UTC)


def _all(conditions: list[Document]) -> Document:
    conditions = [c for c in conditions if c]
    if not conditions:
        return {}
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}
