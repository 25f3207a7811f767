"""Applications: what a developer subscribes and holds keys for, each the caller's own. Each
change stages its event in the same write (transactional outbox) and then tries to publish it
at once."""

from aigw.common.actor import Actor
from aigw.common.errors import Conflict, NotFound
from aigw.common.events import ApplicationCreated, ApplicationDeleted
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.outbox import Outbox
from aigw.devportal.applications.ownership import owned_application
from aigw.devportal.applications.repository import (
    COLLECTION,
    ApplicationDoc,
    ApplicationRepository,
)
from aigw.devportal.applications.schemas import Application, ApplicationCreate
from aigw.devportal.events import SOURCE
from aigw.devportal.subscriptions.service import SubscriptionService


class ApplicationService:
    def __init__(
        self, repo: ApplicationRepository, subscriptions: SubscriptionService, outbox: Outbox
    ) -> None:
        self._repo = repo
        self._subscriptions = subscriptions
        self._outbox = outbox

    async def create(self, actor: Actor, body: ApplicationCreate) -> Application:
        """409 if the caller already has an application of that name (others may use it)."""
        doc = ApplicationDoc(
            _id=new_id(),
            name=body.name,
            description=body.description,
            owner=actor.subject,
            created_time=utcnow_ms(),
        )
        if not await self._repo.insert(doc, actor.event(_created(doc), SOURCE)):
            raise Conflict(f"You already have an application named {body.name!r}")
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        return Application.from_doc(doc)

    async def get(self, actor: Actor, app_id: str) -> Application:
        return Application.from_doc(await owned_application(self._repo, actor, app_id))

    async def list_owned(self, actor: Actor) -> list[Application]:
        return [Application.from_doc(doc) for doc in await self._repo.list_owned(actor.subject)]

    async def delete(self, actor: Actor, app_id: str) -> None:
        """Delete the application, then its subscriptions, each with its own event; the
        subscriptions' events go out before the application's."""
        event = actor.event(ApplicationDeleted(application_id=app_id), SOURCE)
        if not await self._repo.mark_deleted(actor.subject, app_id, event):
            raise NotFound(f"Application {app_id!r} does not exist")
        await self._subscriptions.withdraw_all(actor, app_id)
        await self._outbox.try_flush(COLLECTION, app_id)


def _created(doc: ApplicationDoc) -> ApplicationCreated:
    return ApplicationCreated(application_id=doc["_id"], name=doc["name"], owner=doc["owner"])
