"""The applications' use cases: each the caller's own, names unique per owner, every change
announced with the acting user and the request's correlation id."""

import pytest

from aigw.common.actor import Actor
from aigw.common.errors import Conflict, NotFound
from aigw.devportal.applications.schemas import ApplicationCreate
from aigw.devportal.subscriptions.schemas import SubscriptionCreate
from tests.support.devportal_memory import MemoryDevportal


async def test_create_stores_the_application_and_announces_it_as_the_caller(
    portal: MemoryDevportal, alice: Actor
) -> None:
    app = await portal.applications.create(alice, ApplicationCreate(name=" chat ", description="d"))

    assert (app.name, app.description, app.owner) == ("chat", "d", "alice")
    [event] = portal.outbox.published
    assert (event.type, event.subject) == ("aigw.application.created", app.id)
    assert event.data == {"application_id": app.id, "name": "chat", "owner": "alice"}
    assert (event.source, event.actor, event.correlationid) == ("devportal", "alice", "corr-alice")


async def test_a_name_is_unique_per_owner_only(
    portal: MemoryDevportal, alice: Actor, bob: Actor
) -> None:
    await portal.applications.create(alice, ApplicationCreate(name="dup"))

    with pytest.raises(Conflict, match="already have an application named 'dup'"):
        await portal.applications.create(alice, ApplicationCreate(name="dup"))
    assert len(portal.outbox.published) == 1  # the refused one announced nothing

    theirs = await portal.applications.create(bob, ApplicationCreate(name="dup"))
    assert theirs.owner == "bob"


async def test_someone_elses_application_is_missing_to_the_caller(
    portal: MemoryDevportal, alice: Actor, bob: Actor
) -> None:
    app = await portal.applications.create(alice, ApplicationCreate(name="mine"))

    assert await portal.applications.list_owned(bob) == []
    with pytest.raises(NotFound, match="does not exist"):
        await portal.applications.get(bob, app.id)
    with pytest.raises(NotFound):
        await portal.applications.delete(bob, app.id)
    assert await portal.applications.get(alice, app.id) == app
    assert [e.type for e in portal.outbox.published] == ["aigw.application.created"]


async def test_admins_too_reach_only_their_own_applications(portal: MemoryDevportal) -> None:
    app = await portal.applications.create(Actor("alice"), ApplicationCreate(name="mine"))

    with pytest.raises(NotFound):
        await portal.applications.get(Actor("root", admin=True), app.id)


async def test_delete_withdraws_the_subscriptions_before_announcing_the_delete(
    portal: MemoryDevportal, alice: Actor
) -> None:
    app = await portal.applications.create(alice, ApplicationCreate(name="bot"))
    await portal.publish_api("api-1")
    await portal.publish_api("api-2")
    subs = [
        await portal.subscriptions.subscribe(
            alice, SubscriptionCreate(application_id=app.id, api_id=api)
        )
        for api in ("api-1", "api-2")
    ]
    portal.outbox.published.clear()

    remover = Actor("alice", "corr-delete")
    await portal.applications.delete(remover, app.id)

    assert [(e.type, e.subject) for e in portal.outbox.published] == [
        ("aigw.subscription.deleted", subs[0].id),
        ("aigw.subscription.deleted", subs[1].id),
        ("aigw.application.deleted", app.id),
    ]
    assert {(e.actor, e.correlationid) for e in portal.outbox.published} == {
        ("alice", "corr-delete")
    }
    assert portal.outbox.published[0].data == {
        "subscription_id": subs[0].id,
        "application_id": app.id,
        "api_id": "api-1",
    }
    assert await portal.subscriptions.list_owned(alice, None) == []
    # the name is free again at once
    await portal.applications.create(alice, ApplicationCreate(name="bot"))
