"""Where one API's tokens went, per model, application, hour or status, and its calls one by
one, from the gateways' usage records (aigw.common.usage)."""

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.actor import Actor
from aigw.common.mongo import Document
from aigw.common.usage.calls import CallsPage, CallsQuery, calls
from aigw.common.usage.report import usage_report
from aigw.publisher.apis.service import ApiService
from aigw.publisher.audit.repository import AuditRepository
from aigw.publisher.usage.schemas import GroupBy, UsageReport


class UsageService:
    def __init__(
        self, apis: ApiService, db: AsyncDatabase[Document], audit: AuditRepository
    ) -> None:
        self._apis = apis
        self._db = db  # the usage records (aigw.common.usage.store)
        self._audit = audit  # the applications' names, as their events gave them

    async def report(
        self,
        actor: Actor,
        api_id: str,
        start: datetime | None,
        end: datetime | None,
        group_by: GroupBy,
    ) -> UsageReport:
        await self._apis.get(api_id, actor)  # 404 for an unknown API, or one not the actor's
        subject = {"api_id": api_id}
        names = {"application": self._audit.application_names}
        return await usage_report(UsageReport, self._db, subject, start, end, group_by, names)

    async def calls(self, actor: Actor, api_id: str, query: CallsQuery) -> CallsPage:
        api = await self._apis.get(api_id, actor)  # 404 for an unknown API, or not the actor's

        async def api_name(_: object) -> dict[str, str]:
            return {api_id: f"{api['name']} {api['version']}"}

        return await calls(
            self._db, {"api_id": api_id}, query, api_name, self._audit.application_names
        )
