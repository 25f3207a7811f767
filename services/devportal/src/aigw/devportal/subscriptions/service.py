"""Subscribing an application to a published API. Each change stages its event in the same
write (transactional outbox) and then tries to publish it at once."""

from typing import Any

from aigw.common.errors import Conflict, InvalidInput, NotFound
from aigw.common.events import SubscriptionCreated, SubscriptionDeleted, SubscriptionUpdated
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.runtime import ServiceRuntime
from aigw.devportal.applications import store as applications
from aigw.devportal.applications.access import owned_application
from aigw.devportal.audit import Actor
from aigw.devportal.catalog import store as catalog
from aigw.devportal.catalog.models import offered_policies
from aigw.devportal.subscriptions import store
from aigw.devportal.subscriptions.models import (
    Subscription,
    SubscriptionCreate,
    SubscriptionUpdate,
)


async def subscribe(
    runtime: ServiceRuntime, actor: Actor, body: SubscriptionCreate
) -> Subscription:
    await owned_application(runtime.db, actor, body.application_id)
    await _check_offered(runtime.db, body.api_id, body.policy)
    doc = _new_doc(actor, body)
    event = actor.event(
        SubscriptionCreated(subscription_id=doc["_id"], **_refs(doc), policy=body.policy)
    )
    if not await store.insert(runtime.db, doc, event):
        raise Conflict("This application is already subscribed to this API")
    if await applications.find_owned(runtime.db, actor.subject, body.application_id) is None:
        # The application was deleted between the check above and the insert, and its delete
        # may have listed the subscriptions before this one existed. Take the subscription
        # back with a compensating delete staged behind its created event: the relay may
        # already be publishing that one, so dropping the document could not unsend it,
        # whereas created-then-deleted leaves every reader without the subscription.
        await delete_staged(runtime.db, actor, doc)
        await runtime.outbox.try_flush(store.COLLECTION, doc["_id"])
        raise NotFound(f"Application {body.application_id!r} does not exist")
    await runtime.outbox.try_flush(store.COLLECTION, doc["_id"])
    return Subscription.from_doc(doc)


async def change_plan(
    runtime: ServiceRuntime, actor: Actor, sub_id: str, body: SubscriptionUpdate
) -> Subscription:
    """Move one of the caller's subscriptions to another plan its API offers."""
    doc = await store.find_owned(runtime.db, actor.subject, sub_id)
    if doc is None:
        raise NotFound(f"Subscription {sub_id!r} does not exist")
    await _check_offered(runtime.db, doc["api_id"], body.policy)
    if doc["policy"] == body.policy:
        return Subscription.from_doc(doc)  # nothing changes, nothing to announce
    event = actor.event(
        SubscriptionUpdated(subscription_id=sub_id, **_refs(doc), policy=body.policy)
    )
    changed = await store.change_policy(runtime.db, sub_id, body.policy, event)
    if changed is None:
        raise NotFound(f"Subscription {sub_id!r} does not exist")
    await runtime.outbox.try_flush(store.COLLECTION, sub_id)
    return Subscription.from_doc(changed)


async def _check_offered(db: store.Db, api_id: str, policy: str) -> None:
    """404 unless the API is published; 422 listing its plans unless it offers `policy`."""
    api = await catalog.find_listed(db, api_id)
    if api is None:
        raise NotFound(f"API {api_id!r} is not published")
    offered = offered_policies(api)
    if policy not in offered:
        raise InvalidInput(
            f"API {api_id!r} does not offer the subscription policy {policy!r}; "
            f"offered policies: {', '.join(offered)}"
        )


async def list_subscriptions(
    db: store.Db, actor: Actor, application_id: str | None
) -> list[Subscription]:
    if application_id is not None:
        await owned_application(db, actor, application_id)
    docs = await store.list_owned(db, actor.subject, application_id)
    return [Subscription.from_doc(doc) for doc in docs]


async def unsubscribe(runtime: ServiceRuntime, actor: Actor, sub_id: str) -> None:
    doc = await store.find_owned(runtime.db, actor.subject, sub_id)
    if doc is None:
        raise NotFound(f"Subscription {sub_id!r} does not exist")
    await delete_staged(runtime.db, actor, doc)
    await runtime.outbox.try_flush(store.COLLECTION, sub_id)


async def delete_staged(db: store.Db, actor: Actor, doc: dict[str, Any]) -> None:
    """Mark one subscription deleted with its event staged; the caller flushes the outbox."""
    event = actor.event(SubscriptionDeleted(subscription_id=doc["_id"], **_refs(doc)))
    await store.mark_deleted(db, doc["_id"], event)


def _refs(doc: dict[str, Any]) -> dict[str, str]:
    return {"application_id": doc["application_id"], "api_id": doc["api_id"]}


def _new_doc(actor: Actor, body: SubscriptionCreate) -> dict[str, Any]:
    return {
        "_id": new_id(),
        "unique_key": store.unique_key(body.application_id, body.api_id),
        "application_id": body.application_id,
        "api_id": body.api_id,
        "policy": body.policy,
        "status": "UNBLOCKED",
        "owner": actor.subject,
        "created_time": utcnow_ms(),
    }
