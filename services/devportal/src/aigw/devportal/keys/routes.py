"""An application's API keys. Keymanager issues and stores them (hashed); devportal checks
that the application is the caller's and relays the call."""

from fastapi import APIRouter, Response, status

from aigw.common.errors import NotFound
from aigw.common.keymanager import IssuedKey, KeyList
from aigw.devportal.applications.access import owned_application
from aigw.devportal.applications.models import ApplicationKey
from aigw.devportal.deps import CurrentActor, Db, Keymanager
from aigw.devportal.keymanager import KeyRequest
from aigw.devportal.keys.models import ApiKeyCreate

router = APIRouter(prefix="/applications/{app_id}/api-keys", tags=["api-keys"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Generate a key (shown once)")
async def generate(
    app_id: str, body: ApiKeyCreate, actor: CurrentActor, db: Db, keymanager: Keymanager
) -> ApplicationKey:
    await owned_application(db, actor, app_id)
    request = KeyRequest(application_id=app_id, key_type=body.key_type, expires_in=body.expires_in)
    return _shown_once(await keymanager.issue(request))


@router.get("", summary="The application's keys, masked")
async def list_keys(app_id: str, actor: CurrentActor, db: Db, keymanager: Keymanager) -> KeyList:
    await owned_application(db, actor, app_id)
    return await keymanager.list_keys(app_id)


@router.post(
    "/{key_id}/regenerate",
    status_code=status.HTTP_201_CREATED,
    summary="Replace a key's secret, same id (the new key is shown once)",
    responses={409: {"description": "The key is revoked"}},
)
async def regenerate(
    app_id: str, key_id: str, actor: CurrentActor, db: Db, keymanager: Keymanager
) -> ApplicationKey:
    await _application_key(db, actor, app_id, key_id, keymanager)
    return _shown_once(await keymanager.regenerate(key_id))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a key")
async def revoke(
    app_id: str, key_id: str, actor: CurrentActor, db: Db, keymanager: Keymanager
) -> Response:
    await _application_key(db, actor, app_id, key_id, keymanager)
    await keymanager.revoke(key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _application_key(
    db: Db, actor: CurrentActor, app_id: str, key_id: str, keymanager: Keymanager
) -> None:
    """Only a key of this (the caller's) application, not any key the caller can name."""
    await owned_application(db, actor, app_id)
    keys = await keymanager.list_keys(app_id)
    if not any(key.id == key_id for key in keys.list):
        raise NotFound(f"API key {key_id!r} does not exist for this application")


def _shown_once(issued: IssuedKey) -> ApplicationKey:
    return ApplicationKey(
        id=issued.id, api_key=issued.api_key, key_type=issued.key_type, expires_at=issued.expires_at
    )
