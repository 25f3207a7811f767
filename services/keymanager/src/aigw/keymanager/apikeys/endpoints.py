from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from aigw.common.auth import STALE_TOKEN, CurrentPrincipal
from aigw.common.errors import Unauthorized
from aigw.common.service_auth import require_service
from aigw.keymanager.apikeys.repository import ApiKeyRepository
from aigw.keymanager.apikeys.schemas import IssuedKey, IssueKeyRequest, KeyList
from aigw.keymanager.apikeys.service import ApiKeyService
from aigw.keymanager.apikeys.test_keys import TestKeyLimits, TestKeyPolicy
from aigw.keymanager.deps import AppSettings, CorrelationId, Offboard, Runtime

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


def _service(
    runtime: Runtime, settings: AppSettings, correlation_id: CorrelationId
) -> ApiKeyService:
    policy = TestKeyPolicy(settings.test_key_max_live, settings.test_key_issue_per_minute)
    return ApiKeyService(
        ApiKeyRepository(runtime.db),
        runtime.outbox,
        correlation_id,
        TestKeyLimits(runtime.db, policy),
    )


Service = Annotated[ApiKeyService, Depends(_service)]

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
    body: IssueKeyRequest,
    principal: CurrentPrincipal,
    _caller: FromDevportal,
    keys: Service,
    offboard: Offboard,
) -> IssuedKey:
    issued = await keys.issue(body, principal)
    if await offboard.revoke_if_owner_gone(principal.subject, key_id=issued.id):
        raise Unauthorized(STALE_TOKEN)  # deleted while this request was under way
    return issued


@router.get("", summary="The caller's API keys, masked")
async def list_keys(
    principal: CurrentPrincipal,
    keys: Service,
    application_id: Annotated[str | None, Query(alias="applicationId")] = None,
) -> KeyList:
    return await keys.list(principal, application_id)


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
    key_id: str, principal: CurrentPrincipal, _caller: FromDevportal, keys: Service
) -> IssuedKey:
    return await keys.regenerate(key_id, principal)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key")
async def revoke(key_id: str, principal: CurrentPrincipal, keys: Service) -> Response:
    await keys.revoke(key_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
