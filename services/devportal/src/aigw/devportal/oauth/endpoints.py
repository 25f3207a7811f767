"""An application's OAuth2 client credentials, created and stored by keymanager
(aigw.devportal.oauth.service)."""

from fastapi import APIRouter, Response, status

from aigw.devportal.deps import CurrentActor, Keymanager, OAuth
from aigw.devportal.oauth.schemas import OAuthKeyCreate, OAuthKeyList, OAuthKeys

router = APIRouter(prefix="/applications/{app_id}/oauth-keys", tags=["oauth-keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Generate a consumer key and secret (the secret is shown once)",
    responses={409: {"description": "Live credentials of this key type exist: revoke first"}},
)
async def generate(
    app_id: str,
    body: OAuthKeyCreate,
    actor: CurrentActor,
    oauth: OAuth,
    keymanager: Keymanager,
) -> OAuthKeys:
    return await oauth.generate(actor, keymanager, app_id, body.key_type)


@router.get("", summary="The application's consumer keys, without secrets")
async def list_keys(
    app_id: str, actor: CurrentActor, oauth: OAuth, keymanager: Keymanager
) -> OAuthKeyList:
    return OAuthKeyList.of(await oauth.list_keys(actor, keymanager, app_id))


@router.delete(
    "/{consumer_key}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the consumer secret: no new tokens, and issued ones stop working",
)
async def revoke(
    app_id: str,
    consumer_key: str,
    actor: CurrentActor,
    oauth: OAuth,
    keymanager: Keymanager,
) -> Response:
    await oauth.revoke(actor, keymanager, app_id, consumer_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
