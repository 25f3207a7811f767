from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from aigw.common.errors import NOT_KNOWN_YET
from aigw.common.schemas import Collection
from aigw.devportal.deps import CurrentActor, Subscriptions
from aigw.devportal.subscriptions.schemas import (
    Subscription,
    SubscriptionCreate,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe an application",
    responses=NOT_KNOWN_YET,
)
async def create(
    body: SubscriptionCreate, actor: CurrentActor, subscriptions: Subscriptions
) -> Subscription:
    return await subscriptions.subscribe(actor, body)


@router.get("", summary="The caller's subscriptions, optionally of one application")
async def list_subscriptions(
    actor: CurrentActor,
    subscriptions: Subscriptions,
    application_id: Annotated[str | None, Query(alias="applicationId")] = None,
) -> Collection[Subscription]:
    return Collection.of(await subscriptions.list_owned(actor, application_id))


@router.put("/{sub_id}", summary="Change the subscription's plan", responses=NOT_KNOWN_YET)
async def change_plan(
    sub_id: str, body: SubscriptionUpdate, actor: CurrentActor, subscriptions: Subscriptions
) -> Subscription:
    return await subscriptions.change_plan(actor, sub_id, body)


@router.delete("/{sub_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Unsubscribe")
async def delete(sub_id: str, actor: CurrentActor, subscriptions: Subscriptions) -> Response:
    await subscriptions.unsubscribe(actor, sub_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
