from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from aigw.keymanager.deps import AdminActor, Keys, Signing
from aigw.keymanager.schemas import CamelModel, RequestModel

router = APIRouter(tags=["signing"])


class RotateRequest(RequestModel):
    emergency: bool = Field(
        False,
        description="the previous key may have leaked: it stops verifying at once (gone from "
        "the JWKS, and gateways drop it), so every token it signed is refused; "
        "false: it verifies until its tokens expired",
    )


class RotatedKey(CamelModel):
    kid: str
    previous_kid: str | None
    previous_valid_until: datetime | None = Field(
        description="when the previous key stops verifying (now after an emergency rotation)"
    )


@router.get("/jwks", summary="Public keys that verify management access tokens")
async def jwks(keys: Keys) -> dict[str, Any]:
    return keys.jwks()


@router.post(
    "/signing-keys/rotate",
    summary="Sign new tokens with a new key; the previous key verifies until its tokens expire, "
    "or not at all after an emergency rotation",
    responses={403: {"description": "Not an admin"}, 409: {"description": "Concurrent rotation"}},
)
async def rotate(
    actor: AdminActor, signing: Signing, body: RotateRequest | None = None
) -> RotatedKey:
    emergency = body is not None and body.emergency
    rotated = await signing.rotate(actor, emergency=emergency)
    return RotatedKey(
        kid=rotated.kid,
        previous_kid=rotated.previous_kid,
        previous_valid_until=rotated.previous_valid_until,
    )
