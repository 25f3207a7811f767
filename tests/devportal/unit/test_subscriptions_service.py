"""The subscriptions' use cases: only the caller's applications, only published APIs, only a
plan the API offers, one subscription per application and API, every change announced."""

import pytest

from aigw.common.actor import Actor
from aigw.common.errors import Conflict, InvalidInput, NotFound
from aigw.common.events import Envelope
from aigw.devportal.applications.schemas import ApplicationCreate
from aigw.devportal.subscriptions.repository import SubscriptionDoc
from aigw.devportal.subscriptions.schemas import SubscriptionCreate, SubscriptionUpdate
from tests.support.devportal_memory import MemoryDevportal


async def _app(portal: MemoryDevportal, actor: Actor, name: str = "bot") -> str:
    return (await portal.applications.create(actor, ApplicationCreate(name=name))).id


async def test_subscribe_announces_the_subscription_and_its_plan(
    portal: MemoryDevportal, alice: Actor
) -> None:
    app_id = await _app(portal, alice)
    await portal.publish_api("api-1", "Gold", "Silver")
    portal.outbox.published.clear()

    sub = await portal.subscriptions.subscribe(
        alice, SubscriptionCreate(application_id=app_id, api_id="api-1", policy="Gold")
    )

    assert (sub.application_id, sub.api_id, sub.policy, sub.status) == (
        app_id,
        "api-1",
        "Gold",
        "UNBLOCKED",
    )
    [event] = portal.outbox.published
    assert (event.type, event.subject, event.actor, event.correlationid) == (
        "aigw.subscription.created",
        sub.id,
        "alice",
        "corr-alice",
    )
    assert event.data == {
        "subscription_id": sub.id,
        "application_id": app_id,
        "api_id": "api-1",
        "policy": "Gold",
    }


async def test_an_api_published_without_plans_offers_unlimited(
    portal: MemoryDevportal, alice: Actor
) -> None:
    app_id = await _app(portal, alice)
    await portal.publish_api("api-1")  # no plans travelled with it

    sub = await portal.subscriptions.subscribe(
        alice, SubscriptionCreate(application_id=app_id, api_id="api-1")
    )
    assert sub.policy == "Unlimited"


async def test_refusals_store_and_announce_nothing(
    portal: MemoryDevportal, alice: Actor, bob: Actor
) -> None:
    app_id = await _app(portal, alice)
    await portal.publish_api("api-1", "Gold", "Silver")
    portal.outbox.published.clear()
    subscribe = portal.subscriptions.subscribe

    with pytest.raises(NotFound, match="'unknown' is not published"):
        await subscribe(alice, SubscriptionCreate(application_id=app_id, api_id="unknown"))
    with pytest.raises(InvalidInput, match="offered policies: Gold, Silver"):
        await subscribe(
            alice, SubscriptionCreate(application_id=app_id, api_id="api-1", policy="Bronze")
        )
    with pytest.raises(NotFound, match=f"Application '{app_id}' does not exist"):
        await subscribe(
            bob, SubscriptionCreate(application_id=app_id, api_id="api-1", policy="Gold")
        )

    assert portal.subscriptions_repo.docs == {}
    assert portal.outbox.published == []


async def test_one_subscription_per_application_and_api(
    portal: MemoryDevportal, alice: Actor
) -> None:
    app_id = await _app(portal, alice)
    await portal.publish_api("api-1")
    body = SubscriptionCreate(application_id=app_id, api_id="api-1")
    await portal.subscriptions.subscribe(alice, body)

    with pytest.raises(Conflict, match="already subscribed"):
        await portal.subscriptions.subscribe(alice, body)
    assert len(portal.subscriptions_repo.docs) == 1


async def test_changing_the_plan_announces_only_a_real_change(
    portal: MemoryDevportal, alice: Actor, bob: Actor
) -> None:
    app_id = await _app(portal, alice)
    await portal.publish_api("api-1", "Gold", "Silver")
    sub = await portal.subscriptions.subscribe(
        alice, SubscriptionCreate(application_id=app_id, api_id="api-1", policy="Gold")
    )
    portal.outbox.published.clear()

    same = await portal.subscriptions.change_plan(alice, sub.id, SubscriptionUpdate(policy="Gold"))
    assert same == sub
    assert portal.outbox.published == []

    mover = Actor("alice", "corr-move")
    moved = await portal.subscriptions.change_plan(
        mover, sub.id, SubscriptionUpdate(policy="Silver")
    )
    assert moved.policy == "Silver"
    [event] = portal.outbox.published
    assert (event.type, event.actor, event.correlationid) == (
        "aigw.subscription.updated",
        "alice",
        "corr-move",
    )
    assert event.data == {
        "subscription_id": sub.id,
        "application_id": app_id,
        "api_id": "api-1",
        "policy": "Silver",
    }

    with pytest.raises(InvalidInput, match="does not offer the subscription policy 'Bronze'"):
        await portal.subscriptions.change_plan(alice, sub.id, SubscriptionUpdate(policy="Bronze"))
    with pytest.raises(NotFound, match=f"Subscription '{sub.id}' does not exist"):
        await portal.subscriptions.change_plan(bob, sub.id, SubscriptionUpdate(policy="Gold"))
    assert len(portal.outbox.published) == 1


async def test_unsubscribe_announces_it_and_only_the_owner_may(
    portal: MemoryDevportal, alice: Actor, bob: Actor
) -> None:
    app_id = await _app(portal, alice)
    await portal.publish_api("api-1")
    body = SubscriptionCreate(application_id=app_id, api_id="api-1")
    sub = await portal.subscriptions.subscribe(alice, body)
    portal.outbox.published.clear()

    with pytest.raises(NotFound):
        await portal.subscriptions.unsubscribe(bob, sub.id)
    await portal.subscriptions.unsubscribe(alice, sub.id)

    [event] = portal.outbox.published
    assert (event.type, event.subject, event.actor) == (
        "aigw.subscription.deleted",
        sub.id,
        "alice",
    )
    with pytest.raises(NotFound):
        await portal.subscriptions.unsubscribe(alice, sub.id)
    await portal.subscriptions.subscribe(alice, body)  # subscribing again is allowed


async def test_listing_is_the_callers_own_and_of_their_application_only(
    portal: MemoryDevportal, alice: Actor, bob: Actor
) -> None:
    first, second = await _app(portal, alice, "first"), await _app(portal, alice, "second")
    await portal.publish_api("api-1")
    for app_id in (first, second):
        body = SubscriptionCreate(application_id=app_id, api_id="api-1")
        await portal.subscriptions.subscribe(alice, body)

    assert len(await portal.subscriptions.list_owned(alice, None)) == 2
    [only] = await portal.subscriptions.list_owned(alice, first)
    assert only.application_id == first
    assert await portal.subscriptions.list_owned(bob, None) == []
    with pytest.raises(NotFound):
        await portal.subscriptions.list_owned(bob, first)


@pytest.mark.parametrize(
    ("deleted_when", "announced"),
    [
        # the delete cannot have seen the subscription: the subscribe takes it back itself
        (
            "before the insert",
            ["application.deleted", "subscription.created", "subscription.deleted"],
        ),
        # the delete saw it and withdrew it; the subscribe's own take-back finds it gone
        (
            "after the insert",
            ["subscription.created", "subscription.deleted", "application.deleted"],
        ),
    ],
)
async def test_a_subscription_racing_its_applications_delete_is_taken_back(
    portal: MemoryDevportal, alice: Actor, deleted_when: str, announced: list[str]
) -> None:
    """The application is deleted after subscribe checked it is the caller's: whichever side
    of the insert the delete lands, the subscribe fails with 404 and no subscription is left,
    the one announced withdrawn again."""
    app_id = await _app(portal, alice)
    await portal.publish_api("api-1")
    repo = portal.subscriptions_repo
    store = repo.insert

    async def insert_racing_the_delete(sub: SubscriptionDoc, event: Envelope) -> bool:
        if deleted_when == "before the insert":
            await portal.applications.delete(alice, app_id)
        inserted = await store(sub, event)
        if deleted_when == "after the insert":
            await portal.applications.delete(alice, app_id)
        return inserted

    repo.insert = insert_racing_the_delete  # type: ignore[method-assign]
    portal.outbox.published.clear()

    with pytest.raises(NotFound, match=f"Application '{app_id}' does not exist"):
        await portal.subscriptions.subscribe(
            alice, SubscriptionCreate(application_id=app_id, api_id="api-1")
        )

    assert [e.type.removeprefix("aigw.") for e in portal.outbox.published] == announced
    assert repo.docs == {}
