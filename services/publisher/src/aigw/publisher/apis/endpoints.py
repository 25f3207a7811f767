"""`/apis`: AI APIs, their backend security, deployment and lifecycle."""

from fastapi import APIRouter, Response, status

from aigw.publisher.access import Apis, Publisher
from aigw.publisher.apis.schemas import (
    ApiIn,
    ApiList,
    ApiOut,
    ApiUpdate,
    BackendSecurityIn,
    BackendSecurityOut,
    DeploymentOut,
    LifecycleIn,
    LifecycleOut,
    UndeploymentOut,
)

PREFIX = "/api/publisher/v1/apis"

router = APIRouter(prefix=PREFIX, tags=["apis"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_api(body: ApiIn, who: Publisher, apis: Apis, response: Response) -> ApiOut:
    doc = await apis.create(body, who)
    response.headers["Location"] = f"{PREFIX}/{doc['_id']}"
    return ApiOut.from_doc(doc)


@router.get("")
async def list_apis(who: Publisher, apis: Apis) -> ApiList:
    docs = await apis.list(who)
    return ApiList.of([ApiOut.from_doc(d) for d in docs])


@router.get("/{api_id}")
async def get_api(api_id: str, who: Publisher, apis: Apis) -> ApiOut:
    return ApiOut.from_doc(await apis.get(api_id, who))


@router.put("/{api_id}")
async def update_api(api_id: str, body: ApiUpdate, who: Publisher, apis: Apis) -> ApiOut:
    return ApiOut.from_doc(await apis.update(api_id, body, who))


@router.delete("/{api_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_api(api_id: str, who: Publisher, apis: Apis) -> None:
    await apis.delete(api_id, who)


@router.put("/{api_id}/backend-security")
async def set_backend_security(
    api_id: str, body: BackendSecurityIn, who: Publisher, apis: Apis
) -> BackendSecurityOut:
    return BackendSecurityOut.from_doc(await apis.set_backend_security(api_id, body, who))


@router.get("/{api_id}/backend-security")
async def get_backend_security(api_id: str, who: Publisher, apis: Apis) -> BackendSecurityOut:
    return BackendSecurityOut.from_doc(await apis.get(api_id, who))


@router.post("/{api_id}/deploy", status_code=status.HTTP_201_CREATED)
async def deploy_api(api_id: str, who: Publisher, apis: Apis) -> DeploymentOut:
    doc = await apis.deploy(api_id, who)
    return DeploymentOut(
        api_id=api_id, revision=doc["deployed_revision"], deployed_time=doc["deployed_time"]
    )


@router.post("/{api_id}/undeploy")
async def undeploy_api(api_id: str, who: Publisher, apis: Apis) -> UndeploymentOut:
    _, revision = await apis.undeploy(api_id, who)
    return UndeploymentOut(api_id=api_id, undeployed_revision=revision)


@router.post("/{api_id}/lifecycle")
async def change_lifecycle(
    api_id: str, body: LifecycleIn, who: Publisher, apis: Apis
) -> LifecycleOut:
    doc = await apis.change_lifecycle(api_id, body.action, who)
    return LifecycleOut(id=api_id, lifecycle_status=doc["lifecycle_status"])
