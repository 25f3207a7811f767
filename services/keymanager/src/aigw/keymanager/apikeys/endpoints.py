"""`/api-keys`: API keys, issued and regenerated through devportal, listed and revoked by
their owners (and admins)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from aigw.common.service_auth import require_service
from aigw.keymanager.apikeys.schemas import IssuedKey, IssueKeyRequest, KeyList
from aigw.keymanager.deps import ApiKeys, CurrentActor

router = APIRouter(prefix="/api-keys", tags=["api-keys"])

# Only devportal knows who owns an application and which APIs are published, so keys are
# issued only on its signed request, in the name of the user whose token it forwards.
FromDevportal = Annotated[
    str,
    Depends(require_service("devportal", purpose="Keys are issued through the developer portal")),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API key (shown once); devportal-signed requests only",
    responses={
        429: {
            "description": "A test key (apiId set) over the caller's limits: live test keys "
            "per API, or new test keys a minute; see Retry-After"
        }
    },
)
async def issue(
    body: IssueKeyRequest, actor: CurrentActor, _caller: FromDevportal, keys: ApiKeys
) -> IssuedKey:
    return await keys.issue(body, actor)


@router.get("", summary="The caller's API keys, masked")
async def list_keys(
    actor: CurrentActor,
    keys: ApiKeys,
    application_id: Annotated[str | None, Query(alias="applicationId")] = None,
) -> KeyList:
    return await keys.list(actor, application_id)


@router.post(
    "/{key_id}/regenerate",
    status_code=status.HTTP_201_CREATED,
    summary="Replace a key's secret (shown once); devportal-signed requests only",
    responses={
        404: {"description": "No such key of the caller"},
        409: {"description": "Revoked, or a test key (get a new one instead)"},
    },
)
async def regenerate(
    key_id: str, actor: CurrentActor, _caller: FromDevportal, keys: ApiKeys
) -> IssuedKey:
    return await keys.regenerate(key_id, actor)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key")
async def revoke(key_id: str, actor: CurrentActor, keys: ApiKeys) -> Response:
    await keys.revoke(key_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
