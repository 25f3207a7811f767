from fastapi import APIRouter, Response, status

from aigw.devportal.applications import service
from aigw.devportal.applications.models import Application, ApplicationCreate
from aigw.devportal.deps import CurrentActor, Db, Runtime
from aigw.devportal.schemas import Collection

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an application")
async def create(body: ApplicationCreate, actor: CurrentActor, runtime: Runtime) -> Application:
    return await service.create(runtime, actor, body)


@router.get("", summary="The caller's applications")
async def list_applications(actor: CurrentActor, db: Db) -> Collection[Application]:
    return Collection.of(await service.list_owned(db, actor))


@router.get("/{app_id}", summary="One of the caller's applications")
async def get(app_id: str, actor: CurrentActor, db: Db) -> Application:
    return await service.get(db, actor, app_id)


@router.delete(
    "/{app_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete with its subscriptions"
)
async def delete(app_id: str, actor: CurrentActor, runtime: Runtime) -> Response:
    await service.delete(runtime, actor, app_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
