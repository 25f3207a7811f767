"""What one of the caller's applications used, per model, API, hour or status, and its calls
one by one, from the gateways' usage records (aigw.common.usage)."""

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.actor import Actor
from aigw.common.mongo import Document
from aigw.common.usage.calls import CallsPage, CallsQuery, calls
from aigw.common.usage.report import usage_report
from aigw.devportal.applications.ownership import owned_application
from aigw.devportal.applications.repository import ApplicationRepository
from aigw.devportal.catalog.repository import CatalogRepository
from aigw.devportal.usage.schemas import GroupBy, UsageReport


class UsageService:
    def __init__(
        self,
        applications: ApplicationRepository,
        catalogue: CatalogRepository,
        db: AsyncDatabase[Document],
    ) -> None:
        self._applications = applications
        self._catalogue = catalogue  # the APIs' names
        self._db = db  # the usage records (aigw.common.usage.store)

    async def report(
        self,
        actor: Actor,
        app_id: str,
        start: datetime | None,
        end: datetime | None,
        group_by: GroupBy,
    ) -> UsageReport:
        await owned_application(self._applications, actor, app_id)  # someone else's is 404
        subject = {"application_id": app_id}
        names = {"api": self._catalogue.names}
        return await usage_report(UsageReport, self._db, subject, start, end, group_by, names)

    async def calls(self, actor: Actor, app_id: str, query: CallsQuery) -> CallsPage:
        app = await owned_application(self._applications, actor, app_id)  # else 404

        async def app_name(_: object) -> dict[str, str]:
            return {app_id: app["name"]}

        subject = {"application_id": app_id}
        return await calls(self._db, subject, query, self._catalogue.names, app_name)
