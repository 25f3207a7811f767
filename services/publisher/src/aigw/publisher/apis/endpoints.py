"""`/apis`: AI APIs, their backend security, deployment and lifecycle."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from aigw.common.auth import Principal, require_roles
from aigw.common.requests import CorrelationId
from aigw.publisher.apis.schemas import (
    ApiIn,
    ApiList,
    ApiOut,
    BackendSecurityIn,
    BackendSecurityOut,
    DeploymentOut,
    LifecycleIn,
    LifecycleOut,
    UndeploymentOut,
)
from aigw.publisher.apis.service import ApiService, Caller

PREFIX = "/api/publisher/v1/apis"

router = APIRouter(prefix=PREFIX, tags=["apis"])
_require_publisher = require_roles("admin", "publisher")


def _caller(
    principal: Annotated[Principal, Depends(_require_publisher)], correlation_id: CorrelationId
) -> Caller:
    # A client-supplied correlation id ties its events together in the audit trail.
    return Caller(subject=principal.subject, correlation_id=correlation_id)


def _service(request: Request) -> ApiService:
    service: ApiService = request.app.state.apis
    return service


Who = Annotated[Caller, Depends(_caller)]
Apis = Annotated[ApiService, Depends(_service)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_api(body: ApiIn, who: Who, apis: Apis, response: Response) -> ApiOut:
    doc = await apis.create(body, who)
    response.headers["Location"] = f"{PREFIX}/{doc['_id']}"
    return ApiOut.from_doc(doc)


@router.get("")
async def list_apis(_: Who, apis: Apis) -> ApiList:
    docs = await apis.list()
    return ApiList.of([ApiOut.from_doc(d) for d in docs])


@router.get("/{api_id}")
async def get_api(api_id: str, _: Who, apis: Apis) -> ApiOut:
    return ApiOut.from_doc(await apis.get(api_id))


@router.put("/{api_id}")
async def update_api(api_id: str, body: ApiIn, who: Who, apis: Apis) -> ApiOut:
    return ApiOut.from_doc(await apis.update(api_id, body, who))


@router.delete("/{api_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_api(api_id: str, who: Who, apis: Apis) -> None:
    await apis.delete(api_id, who)


@router.put("/{api_id}/backend-security")
async def set_backend_security(
    api_id: str, body: BackendSecurityIn, who: Who, apis: Apis
) -> BackendSecurityOut:
    return BackendSecurityOut.from_doc(await apis.set_backend_security(api_id, body, who))


@router.get("/{api_id}/backend-security")
async def get_backend_security(api_id: str, _: Who, apis: Apis) -> BackendSecurityOut:
    return BackendSecurityOut.from_doc(await apis.get(api_id))


@router.post("/{api_id}/deploy", status_code=status.HTTP_201_CREATED)
async def deploy_api(api_id: str, who: Who, apis: Apis) -> DeploymentOut:
    doc = await apis.deploy(api_id, who)
    return DeploymentOut(
        api_id=api_id, revision=doc["deployed_revision"], deployed_time=doc["deployed_time"]
    )


@router.post("/{api_id}/undeploy")
async def undeploy_api(api_id: str, who: Who, apis: Apis) -> UndeploymentOut:
    _, revision = await apis.undeploy(api_id, who)
    return UndeploymentOut(api_id=api_id, undeployed_revision=revision)


@router.post("/{api_id}/lifecycle")
async def change_lifecycle(api_id: str, body: LifecycleIn, who: Who, apis: Apis) -> LifecycleOut:
    doc = await apis.change_lifecycle(api_id, body.action, who)
    return LifecycleOut(id=api_id, lifecycle_status=doc["lifecycle_status"])
