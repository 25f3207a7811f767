"""An application's OAuth2 client credentials, one pair per key type. Keymanager creates and
stores them (the secret hashed) and issues the access tokens; devportal checks that the
application is the caller's, and that a consumer key named is one of that application's,
before relaying the call in the caller's name (`keymanager` acts for them)."""

from aigw.common.actor import Actor
from aigw.common.errors import NotFound
from aigw.common.events import KeyType
from aigw.devportal.applications.ownership import owned_application
from aigw.devportal.applications.repository import ApplicationRepository
from aigw.devportal.keymanager import KeymanagerClient
from aigw.devportal.oauth.schemas import OAuthKeys, OAuthKeySummary


class OAuthKeyService:
    def __init__(self, applications: ApplicationRepository) -> None:
        self._applications = applications

    async def generate(
        self, actor: Actor, keymanager: KeymanagerClient, app_id: str, key_type: KeyType
    ) -> OAuthKeys:
        await owned_application(self._applications, actor, app_id)
        created = await keymanager.create_client(app_id, key_type)
        return OAuthKeys(
            consumer_key=created.client_id,
            consumer_secret=created.client_secret,
            key_type=created.key_type,
        )

    async def list_keys(
        self, actor: Actor, keymanager: KeymanagerClient, app_id: str
    ) -> list[OAuthKeySummary]:
        await owned_application(self._applications, actor, app_id)
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

    async def revoke(
        self, actor: Actor, keymanager: KeymanagerClient, app_id: str, consumer_key: str
    ) -> None:
        # only a client of this application, not any client the caller can name
        summaries = await self.list_keys(actor, keymanager, app_id)
        if not any(s.consumer_key == consumer_key for s in summaries):
            raise NotFound(f"Consumer key {consumer_key!r} does not exist for this application")
        await keymanager.revoke_client(consumer_key)
