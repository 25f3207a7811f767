"""An application's API keys. Keymanager issues and stores them (hashed); devportal checks
that the application is the caller's, and that a key named is one of that application's,
before relaying the call in the caller's name (`keymanager` acts for them)."""

from aigw.common.actor import Actor
from aigw.common.errors import NotFound
from aigw.common.keymanager import IssuedKey, KeyList
from aigw.devportal.applications.ownership import owned_application
from aigw.devportal.applications.repository import ApplicationRepository
from aigw.devportal.keymanager import KeymanagerClient, KeyRequest
from aigw.devportal.keys.schemas import ApiKeyCreate, ApplicationKey


class KeyService:
    def __init__(self, applications: ApplicationRepository) -> None:
        self._applications = applications

    async def generate(
        self, actor: Actor, keymanager: KeymanagerClient, app_id: str, body: ApiKeyCreate
    ) -> ApplicationKey:
        await owned_application(self._applications, actor, app_id)
        request = KeyRequest(
            application_id=app_id, key_type=body.key_type, expires_in=body.expires_in
        )
        return _shown_once(await keymanager.issue(request))

    async def list_keys(self, actor: Actor, keymanager: KeymanagerClient, app_id: str) -> KeyList:
        await owned_application(self._applications, actor, app_id)
        return await keymanager.list_keys(app_id)

    async def regenerate(
        self, actor: Actor, keymanager: KeymanagerClient, app_id: str, key_id: str
    ) -> ApplicationKey:
        await self._application_key(actor, keymanager, app_id, key_id)
        return _shown_once(await keymanager.regenerate(key_id))

    async def revoke(
        self, actor: Actor, keymanager: KeymanagerClient, app_id: str, key_id: str
    ) -> None:
        await self._application_key(actor, keymanager, app_id, key_id)
        await keymanager.revoke(key_id)

    async def _application_key(
        self, actor: Actor, keymanager: KeymanagerClient, app_id: str, key_id: str
    ) -> None:
        """Only a key of this (the caller's) application, not any key the caller can name."""
        keys = await self.list_keys(actor, keymanager, app_id)
        if not any(key.id == key_id for key in keys.list):
            raise NotFound(f"API key {key_id!r} does not exist for this application")


def _shown_once(issued: IssuedKey) -> ApplicationKey:
    return ApplicationKey(
        id=issued.id, api_key=issued.api_key, key_type=issued.key_type, expires_at=issued.expires_at
    )
