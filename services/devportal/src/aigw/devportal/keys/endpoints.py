"""An application's API keys, issued and stored by keymanager (aigw.devportal.keys.service)."""

from fastapi import APIRouter, Response, status

from aigw.common.keymanager import KeyList
from aigw.devportal.deps import CurrentActor, Keymanager, Keys
from aigw.devportal.keys.schemas import ApiKeyCreate, ApplicationKey

router = APIRouter(prefix="/applications/{app_id}/api-keys", tags=["api-keys"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Generate a key (shown once)")
async def generate(
    app_id: str, body: ApiKeyCreate, actor: CurrentActor, keys: Keys, keymanager: Keymanager
) -> ApplicationKey:
    return await keys.generate(actor, keymanager, app_id, body)


@router.get("", summary="The application's keys, masked")
async def list_keys(
    app_id: str, actor: CurrentActor, keys: Keys, keymanager: Keymanager
) -> KeyList:
    return await keys.list_keys(actor, keymanager, app_id)


@router.post(
    "/{key_id}/regenerate",
    status_code=status.HTTP_201_CREATED,
    summary="Replace a key's secret, same id (the new key is shown once)",
    responses={409: {"description": "The key is revoked"}},
)
async def regenerate(
    app_id: str, key_id: str, actor: CurrentActor, keys: Keys, keymanager: Keymanager
) -> ApplicationKey:
    return await keys.regenerate(actor, keymanager, app_id, key_id)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a key")
async def revoke(
    app_id: str, key_id: str, actor: CurrentActor, keys: Keys, keymanager: Keymanager
) -> Response:
    await keys.revoke(actor, keymanager, app_id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
