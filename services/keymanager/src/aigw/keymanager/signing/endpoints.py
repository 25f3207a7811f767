from typing import Any

from fastapi import APIRouter

from aigw.keymanager.deps import Keys

router = APIRouter(tags=["signing"])


@router.get("/jwks", summary="Public keys that verify management access tokens")
async def jwks(keys: Keys) -> dict[str, Any]:
    return keys.jwks()
