from fastapi import APIRouter, Response, status

from aigw.common.schemas import Collection
from aigw.devportal.applications.schemas import Application, ApplicationCreate
from aigw.devportal.deps import Applications, CurrentActor

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an application")
async def create(
    body: ApplicationCreate, actor: CurrentActor, applications: Applications
) -> Application:
    return await applications.create(actor, body)


@router.get("", summary="The caller's applications")
async def list_applications(
    actor: CurrentActor, applications: Applications
) -> Collection[Application]:
    return Collection.of(await applications.list_owned(actor))


@router.get("/{app_id}", summary="One of the caller's applications")
async def get(app_id: str, actor: CurrentActor, applications: Applications) -> Application:
    return await applications.get(actor, app_id)


@router.delete(
    "/{app_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete with its subscriptions"
)
async def delete(app_id: str, actor: CurrentActor, applications: Applications) -> Response:
    await applications.delete(actor, app_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
