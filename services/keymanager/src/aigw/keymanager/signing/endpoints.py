"""`/jwks` and `/signing-keys`: the public keys that verify management tokens, and rotation."""

from typing import Any

from fastapi import APIRouter

from aigw.keymanager.deps import AdminActor, Keys, Signing
from aigw.keymanager.signing.schemas import RotatedKey, RotateRequest

router = APIRouter(tags=["signing"])


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
