from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from aigw.devportal.deps import CurrentActor, Db, Runtime
from aigw.devportal.schemas import Collection
from aigw.devportal.subscriptions import service
from aigw.devportal.subscriptions.models import (
    Subscription,
    SubscriptionCreate,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Subscribe an application")
async def create(body: SubscriptionCreate, actor: CurrentActor, runtime: Runtime) -> Subscription:
    return await service.subscribe(runtime, actor, body)


@router.get("", summary="The caller's subscriptions, optionally of one application")
async def list_subscriptions(
    actor: CurrentActor,
    db: Db,
    application_id: Annotated[str | None, Query(alias="applicationId")] = None,
) -> Collection[Subscription]:
    return Collection.of(await service.list_subscriptions(db, actor, application_id))


@router.put("/{sub_id}", summary="Change the subscription's plan")
async def change_plan(
    sub_id: str, body: SubscriptionUpdate, actor: CurrentActor, runtime: Runtime
) -> Subscription:
    return await service.change_plan(runtime, actor, sub_id, body)


@router.delete("/{sub_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Unsubscribe")
async def delete(sub_id: str, actor: CurrentActor, runtime: Runtime) -> Response:
    await service.unsubscribe(runtime, actor, sub_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
