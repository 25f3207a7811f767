from typing import Annotated, Any

from fastapi import APIRouter, Depends

from aigw.common.auth import Principal, require_roles
from aigw.keymanager.deps import CorrelationId, Keys, SigningKeys
from aigw.keymanager.schemas import CamelModel

router = APIRouter(tags=["signing"])

Admin = Annotated[Principal, Depends(require_roles("admin"))]


class RotatedKey(CamelModel):
    kid: str
    previous_kid: str | None


@router.get("/jwks", summary="Public keys that verify management access tokens")
async def jwks(keys: Keys) -> dict[str, Any]:
    return keys.jwks()


@router.post(
    "/signing-keys/rotate",
    summary="Sign new tokens with a new key; the previous key verifies until its tokens expire",
    responses={403: {"description": "Not an admin"}, 409: {"description": "Concurrent rotation"}},
)
async def rotate(admin: Admin, store: SigningKeys, correlation_id: CorrelationId) -> RotatedKey:
    rotated = await store.rotate(admin.subject, correlation_id)
    return RotatedKey(kid=rotated.kid, previous_kid=rotated.previous_kid)
