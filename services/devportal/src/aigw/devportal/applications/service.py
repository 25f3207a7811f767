"""Applications: what a developer subscribes and holds keys for. Each change stages its event
in the same write (transactional outbox) and then tries to publish it at once."""

from typing import Any

from aigw.common.errors import Conflict, NotFound
from aigw.common.events import ApplicationCreated, ApplicationDeleted
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.runtime import ServiceRuntime
from aigw.devportal.applications import store
from aigw.devportal.applications.access import owned_application
from aigw.devportal.applications.models import Application, ApplicationCreate
from aigw.devportal.audit import Actor
from aigw.devportal.subscriptions import service as subscriptions
from aigw.devportal.subscriptions import store as subscription_store


async def create(runtime: ServiceRuntime, actor: Actor, body: ApplicationCreate) -> Application:
    doc = _new_doc(actor, body)
    event = actor.event(
        ApplicationCreated(application_id=doc["_id"], name=body.name, owner=actor.subject)
    )
    if not await store.insert(runtime.db, doc, event):
        raise Conflict(f"You already have an application named {body.name!r}")
    await runtime.outbox.try_flush(store.COLLECTION, doc["_id"])
    return Application.from_doc(doc)


async def get(db: store.Db, actor: Actor, app_id: str) -> Application:
    return Application.from_doc(await owned_application(db, actor, app_id))


async def list_owned(db: store.Db, actor: Actor) -> list[Application]:
    return [Application.from_doc(doc) for doc in await store.list_owned(db, actor.subject)]


async def delete(runtime: ServiceRuntime, actor: Actor, app_id: str) -> None:
    """Delete the application, then its subscriptions, each with its own event."""
    event = actor.event(ApplicationDeleted(application_id=app_id))
    if not await store.mark_deleted(runtime.db, actor.subject, app_id, event):
        raise NotFound(f"Application {app_id!r} does not exist")
    subs = await subscription_store.list_owned(runtime.db, actor.subject, app_id)
    for sub in subs:
        await subscriptions.delete_staged(runtime.db, actor, sub)
    # the subscriptions' events go out before the application's
    for sub in subs:
        await runtime.outbox.try_flush(subscription_store.COLLECTION, sub["_id"])
    await runtime.outbox.try_flush(store.COLLECTION, app_id)


def _new_doc(actor: Actor, body: ApplicationCreate) -> dict[str, Any]:
    return {
        "_id": new_id(),
        "unique_key": store.unique_key(actor.subject, body.name),
        "name": body.name,
        "description": body.description,
        "owner": actor.subject,
        "created_time": utcnow_ms(),
    }
