"""The FastAPI dependencies keymanager's routers share: who acts (any signed-in user, or an
admin), the services the lifespan built, and the key ring (read per request, so a rotation
by any keymanager process applies here at once)."""

from typing import Annotated

from fastapi import Depends

from aigw.common.actor import Actor, acting_caller
from aigw.common.requests import CorrelationId, Runtime, from_state, get_settings
from aigw.keymanager.apikeys.service import ApiKeyService
from aigw.keymanager.oauth.service import OAuthService
from aigw.keymanager.settings import Settings
from aigw.keymanager.signing.keys import KeyRing
from aigw.keymanager.signing.service import SigningKeyService
from aigw.keymanager.users.service import UserService

__all__ = [
    "AdminActor",
    "ApiKeys",
    "AppSettings",
    "CorrelationId",
    "CurrentActor",
    "Keys",
    "OAuth",
    "Runtime",
    "Signing",
    "Users",
]


Signing = Annotated[SigningKeyService, Depends(from_state("signing", SigningKeyService))]


async def _keyring(signing: Signing) -> KeyRing:
    return await signing.current()


CurrentActor = Annotated[Actor, Depends(acting_caller())]  # any signed-in user
AdminActor = Annotated[Actor, Depends(acting_caller("admin"))]
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyRing, Depends(_keyring)]
Users = Annotated[UserService, Depends(from_state("users", UserService))]
ApiKeys = Annotated[ApiKeyService, Depends(from_state("api_keys", ApiKeyService))]
OAuth = Annotated[OAuthService, Depends(from_state("oauth", OAuthService))]
