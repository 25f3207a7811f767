"""`/apis`: AI APIs, their backend security, deployment and lifecycle."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response, status

from aigw.common.errors import ErrorBody, UnsupportedMediaType
from aigw.common.idempotency import IDEMPOTENT_RESPONSES, Answer, IdempotencyKey
from aigw.publisher.apis.merge_patch import MEDIA_TYPE as MERGE_PATCH
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
from aigw.publisher.deps import Apis, CurrentActor, IdempotencyKeys

router = APIRouter(prefix="/apis", tags=["apis"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_api(
    body: ApiIn, actor: CurrentActor, apis: Apis, request: Request, response: Response
) -> ApiOut:
    doc = await apis.create(body, actor)
    response.headers["Location"] = request.app.url_path_for("get_api", api_id=doc["_id"])
    return ApiOut.from_doc(doc)


@router.get("")
async def list_apis(actor: CurrentActor, apis: Apis) -> ApiList:
    docs = await apis.list(actor)
    return ApiList.of([ApiOut.from_doc(d) for d in docs])


@router.get("/{api_id}")
async def get_api(api_id: str, actor: CurrentActor, apis: Apis) -> ApiOut:
    return ApiOut.from_doc(await apis.get(api_id, actor))


@router.put("/{api_id}")
async def update_api(api_id: str, body: ApiUpdate, actor: CurrentActor, apis: Apis) -> ApiOut:
    return ApiOut.from_doc(await apis.update(api_id, body, actor))


_PATCH_MEDIA_TYPES = (MERGE_PATCH, "application/json")
_PATCH_SCHEMA = {"type": "object", "additionalProperties": True}
_PATCH_EXAMPLES: dict[str, Any] = {
    "plans": {
        "summary": "change the plans and the backend throttle, keep everything else",
        "value": {"policies": ["Unlimited", "Gold"], "backendThrottle": {"production": 50}},
    },
    # Examples with null go in the description: FastAPI drops None from the OpenAPI document.
    "nested": {
        "summary": "change one field of a routing policy (objects merge, arrays replace)",
        "value": {"routing": {"production": {"timeoutSeconds": 20, "fallbacks": []}}},
    },
}


def _merge_patch_body(request: Request) -> None:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in _PATCH_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Send the patch as {MERGE_PATCH} (a JSON merge patch, RFC 7396) or application/json"
        )


# A parameter after the caller's, so a request without a token is 401 whatever it sends.
MergePatchMediaType = Annotated[None, Depends(_merge_patch_body)]
MergePatch = Annotated[
    dict[str, Any],
    Body(
        media_type=MERGE_PATCH,
        description="Any subset of the PUT body (ApiUpdate): what it names is merged in",
        openapi_examples=_PATCH_EXAMPLES,
    ),
]


@router.patch(
    "/{api_id}",
    responses={415: {"model": ErrorBody, "description": "Not a JSON merge patch"}},
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": _PATCH_SCHEMA, "examples": _PATCH_EXAMPLES}}
        }
    },
)
async def patch_api(
    api_id: str, patch: MergePatch, actor: CurrentActor, _: MergePatchMediaType, apis: Apis
) -> ApiOut:
    """Change only what the body names: a JSON merge patch (RFC 7396) of the API as GET answers
    it. Members left out are kept, `null` removes an optional member or resets it to its
    default, objects merge recursively, arrays replace. The result is validated and written
    exactly as a PUT body (same 422s, read-only fields ignored, the same `aigw.api.updated`
    event). Removing an endpoint with `null` removes its provider key too; this drops the
    production routing policy and the additional endpoint `backup` with its key:

    `{"routing": {"production": null}, "additionalEndpoints": {"backup": null}}`"""
    return ApiOut.from_doc(await apis.patch(api_id, patch, actor))


@router.delete("/{api_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_api(api_id: str, actor: CurrentActor, apis: Apis) -> None:
    await apis.delete(api_id, actor)


@router.put("/{api_id}/backend-security")
async def set_backend_security(
    api_id: str, body: BackendSecurityIn, actor: CurrentActor, apis: Apis
) -> BackendSecurityOut:
    return BackendSecurityOut.from_doc(await apis.set_backend_security(api_id, body, actor))


@router.get("/{api_id}/backend-security")
async def get_backend_security(api_id: str, actor: CurrentActor, apis: Apis) -> BackendSecurityOut:
    return BackendSecurityOut.from_doc(await apis.get(api_id, actor))


@router.post(
    "/{api_id}/deploy",
    status_code=status.HTTP_201_CREATED,
    response_model=DeploymentOut,
    responses=IDEMPOTENT_RESPONSES,
)
async def deploy_api(
    api_id: str,
    actor: CurrentActor,
    apis: Apis,
    keys: IdempotencyKeys,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Deploy a new revision of the API. Send an `Idempotency-Key` to make a retry safe: a
    retry with the same key (after a lost answer, a timeout or a 503) answers the deploy
    already made, with `Idempotent-Replayed: true`, instead of making another revision."""

    async def act(mark: str | None) -> Answer:
        doc = await apis.deploy(api_id, actor, mark)
        revision, deployed_time = doc["deployed_revision"], doc["deployed_time"]
        return _deployment(api_id, revision, deployed_time)

    async def recover(mark: str) -> Answer | None:
        made = await apis.deployed_with(api_id, mark, actor)
        return made and _deployment(api_id, made["revision"], made["deployed_time"])

    return await keys.answer(request, actor.subject, idempotency_key, act, recover)


def _deployment(api_id: str, revision: int | None, deployed_time: datetime | None) -> Answer:
    out = DeploymentOut(api_id=api_id, revision=revision, deployed_time=deployed_time)
    return Answer(status.HTTP_201_CREATED, out.model_dump(mode="json", by_alias=True))


@router.post("/{api_id}/undeploy")
async def undeploy_api(api_id: str, actor: CurrentActor, apis: Apis) -> UndeploymentOut:
    _, revision = await apis.undeploy(api_id, actor)
    return UndeploymentOut(api_id=api_id, undeployed_revision=revision)


@router.post("/{api_id}/lifecycle")
async def change_lifecycle(
    api_id: str, body: LifecycleIn, actor: CurrentActor, apis: Apis
) -> LifecycleOut:
    doc = await apis.change_lifecycle(api_id, body.action, actor)
    return LifecycleOut(id=api_id, lifecycle_status=doc["lifecycle_status"])
