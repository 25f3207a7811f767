"""Where one API's tokens went, per model, application or hour, from the gateways' usage
records (aigw.common.usage)."""

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.actor import Actor
from aigw.common.mongo import Document
from aigw.common.usage.report import usage_report
from aigw.publisher.apis.service import ApiService
from aigw.publisher.usage.schemas import GroupBy, UsageReport


class UsageService:
    def __init__(self, apis: ApiService, db: AsyncDatabase[Document]) -> None:
        self._apis = apis
        self._db = db  # the usage records (aigw.common.usage.store)

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
        return await usage_report(UsageReport, self._db, subject, start, end, group_by)
