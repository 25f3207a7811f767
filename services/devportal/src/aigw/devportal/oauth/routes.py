"""An application's OAuth2 client credentials, one pair per key type. Keymanager creates and
stores them (the secret hashed) and issues the access tokens; devportal checks that the
application is the caller's and relays the call."""

from fastapi import APIRouter, Response, status

from aigw.common.errors import NotFound
from aigw.devportal.applications.access import owned_application
from aigw.devportal.deps import CurrentActor, Db, Keymanager
from aigw.devportal.oauth.models import OAuthKeyCreate, OAuthKeyList, OAuthKeys, OAuthKeySummary

router = APIRouter(prefix="/applications/{app_id}/oauth-keys", tags=["oauth-keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Generate a consumer key and secret (the secret is shown once)",
    responses={409: {"description": "Live credentials of this key type exist: revoke first"}},
)
async def generate(
    app_id: str, body: OAuthKeyCreate, actor: CurrentActor, db: Db, keymanager: Keymanager
) -> OAuthKeys:
    await owned_application(db, actor, app_id)
    created = await keymanager.create_client(app_id, body.key_type)
    return OAuthKeys(
        consumer_key=created.client_id,
        consumer_secret=created.client_secret,
        key_type=created.key_type,
    )


@router.get("", summary="The application's consumer keys, without secrets")
async def list_keys(
    app_id: str, actor: CurrentActor, db: Db, keymanager: Keymanager
) -> OAuthKeyList:
    await owned_application(db, actor, app_id)
    return OAuthKeyList.of(await _summaries(keymanager, app_id))


@router.delete(
    "/{consumer_key}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the consumer secret: no new tokens, and issued ones stop working",
)
async def revoke(
    app_id: str, consumer_key: str, actor: CurrentActor, db: Db, keymanager: Keymanager
) -> Response:
    await owned_application(db, actor, app_id)
    # only a client of this application, not any client the caller can name
    if not any(s.consumer_key == consumer_key for s in await _summaries(keymanager, app_id)):
        raise NotFound(f"Consumer key {consumer_key!r} does not exist for this application")
    await keymanager.revoke_client(consumer_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _summaries(keymanager: Keymanager, app_id: str) -> list[OAuthKeySummary]:
    clients = await keymanager.list_clients(app_id)
    return [
        OAuthKeySummary(
            consumer_key=c.client_id,
            key_type=c.key_type,
            created_time=c.created_time,
            revoked=c.revoked,
        )
        for c in clients.list
    ]
