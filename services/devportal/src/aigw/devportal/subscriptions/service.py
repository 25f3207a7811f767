"""Subscribing one of the caller's applications to a published API, on a plan the API offers.
Each change stages its event in the same write (transactional outbox) and then tries to
publish it at once."""

from aigw.common.actor import Actor
from aigw.common.errors import Conflict, InvalidInput, NotFound
from aigw.common.events import SubscriptionCreated, SubscriptionDeleted, SubscriptionUpdated
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.outbox import Outbox
from aigw.devportal.applications.ownership import owned_application
from aigw.devportal.applications.repository import ApplicationRepository
from aigw.devportal.catalog.service import CatalogService
from aigw.devportal.events import SOURCE
from aigw.devportal.subscriptions.repository import (
    COLLECTION,
    SubscriptionDoc,
    SubscriptionRepository,
)
from aigw.devportal.subscriptions.schemas import (
    Subscription,
    SubscriptionCreate,
    SubscriptionUpdate,
)


class SubscriptionService:
    def __init__(
        self,
        repo: SubscriptionRepository,
        applications: ApplicationRepository,
        catalog: CatalogService,
        outbox: Outbox,
    ) -> None:
        self._repo = repo
        self._applications = applications
        self._catalog = catalog
        self._outbox = outbox

    async def subscribe(self, actor: Actor, body: SubscriptionCreate) -> Subscription:
        await owned_application(self._applications, actor, body.application_id)
        await self._check_offered(body.api_id, body.policy)
        doc = SubscriptionDoc(
            _id=new_id(),
            application_id=body.application_id,
            api_id=body.api_id,
            policy=body.policy,
            status="UNBLOCKED",
            owner=actor.subject,
            created_time=utcnow_ms(),
        )
        created = actor.event(_changed(SubscriptionCreated, doc), SOURCE)
        if not await self._repo.insert(doc, created):
            raise Conflict("This application is already subscribed to this API")
        if await self._applications.find_owned(actor.subject, body.application_id) is None:
            # The application was deleted between the check above and the insert, and its
            # delete may have listed the subscriptions before this one existed. Take the
            # subscription back with a compensating delete staged behind its created event:
            # the relay may already be publishing that one, so dropping the document could not
            # unsend it, whereas created-then-deleted leaves every reader without it.
            await self._delete_staged(actor, doc)
            await self._outbox.try_flush(COLLECTION, doc["_id"])
            raise NotFound(f"Application {body.application_id!r} does not exist")
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        return Subscription.from_doc(doc)

    async def change_plan(
        self, actor: Actor, sub_id: str, body: SubscriptionUpdate
    ) -> Subscription:
        """Move one of the caller's subscriptions to another plan its API offers."""
        doc = await self._owned(actor, sub_id)
        await self._check_offered(doc["api_id"], body.policy)
        if doc["policy"] == body.policy:
            return Subscription.from_doc(doc)  # nothing changes, nothing to announce
        event = actor.event(_changed(SubscriptionUpdated, {**doc, "policy": body.policy}), SOURCE)
        changed = await self._repo.change_policy(sub_id, body.policy, event)
        if changed is None:
            raise NotFound(f"Subscription {sub_id!r} does not exist")
        await self._outbox.try_flush(COLLECTION, sub_id)
        return Subscription.from_doc(changed)

    async def list_owned(self, actor: Actor, application_id: str | None) -> list[Subscription]:
        """The caller's subscriptions; of one of their applications if `application_id`."""
        if application_id is not None:
            await owned_application(self._applications, actor, application_id)
        docs = await self._repo.list_owned(actor.subject, application_id)
        return [Subscription.from_doc(doc) for doc in docs]

    async def unsubscribe(self, actor: Actor, sub_id: str) -> None:
        doc = await self._owned(actor, sub_id)
        await self._delete_staged(actor, doc)
        await self._outbox.try_flush(COLLECTION, sub_id)

    async def withdraw_all(self, actor: Actor, application_id: str) -> None:
        """Delete every subscription of an application being deleted, each with its event."""
        subs = await self._repo.list_owned(actor.subject, application_id)
        for sub in subs:
            await self._delete_staged(actor, sub)
        for sub in subs:
            await self._outbox.try_flush(COLLECTION, sub["_id"])

    async def _owned(self, actor: Actor, sub_id: str) -> SubscriptionDoc:
        doc = await self._repo.find_owned(actor.subject, sub_id)
        if doc is None:
            raise NotFound(f"Subscription {sub_id!r} does not exist")
        return doc

    async def _check_offered(self, api_id: str, policy: str) -> None:
        """404 unless the API is published; 422 listing its plans unless it offers `policy`."""
        offered = (await self._catalog.published(api_id)).policies
        if policy not in offered:
            raise InvalidInput(
                f"API {api_id!r} does not offer the subscription policy {policy!r}; "
                f"offered policies: {', '.join(offered)}"
            )

    async def _delete_staged(self, actor: Actor, doc: SubscriptionDoc) -> None:
        """Mark one subscription deleted with its event staged; the caller flushes."""
        await self._repo.mark_deleted(doc["_id"], actor.event(_deleted(doc), SOURCE))


# The subscription events, each built from the document it describes.


def _changed[E: (SubscriptionCreated, SubscriptionUpdated)](
    kind: type[E], doc: SubscriptionDoc
) -> E:
    """A subscription's created or updated event: the same fields, from its document."""
    return kind(
        subscription_id=doc["_id"],
        application_id=doc["application_id"],
        api_id=doc["api_id"],
        policy=doc["policy"],
    )


def _deleted(doc: SubscriptionDoc) -> SubscriptionDeleted:
    return SubscriptionDeleted(
        subscription_id=doc["_id"], application_id=doc["application_id"], api_id=doc["api_id"]
    )
