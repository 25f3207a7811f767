"""The FastAPI dependencies keymanager's routers share: who acts (any signed-in user, or an
admin), the services the lifespan built, and the key ring (read per request, so a rotation
by any keymanager process applies here at once)."""

from typing import Annotated

from fastapi import Depends, Request

from aigw.common.actor import Actor
from aigw.common.auth import CurrentPrincipal, Principal, require_roles
from aigw.common.requests import CorrelationId, Runtime, get_settings
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


# A client-supplied correlation id ties the request's events together in the audit trail.
def _actor(principal: CurrentPrincipal, correlation_id: CorrelationId) -> Actor:
    return Actor.of(principal, correlation_id)


def _admin(
    principal: Annotated[Principal, Depends(require_roles("admin"))],
    correlation_id: CorrelationId,
) -> Actor:
    return Actor.of(principal, correlation_id)


def _signing(request: Request) -> SigningKeyService:
    service: SigningKeyService = request.app.state.signing
    return service


async def _keyring(signing: Annotated[SigningKeyService, Depends(_signing)]) -> KeyRing:
    return await signing.current()


def _users(request: Request) -> UserService:
    service: UserService = request.app.state.users
    return service


def _api_keys(request: Request) -> ApiKeyService:
    service: ApiKeyService = request.app.state.api_keys
    return service


def _oauth(request: Request) -> OAuthService:
    service: OAuthService = request.app.state.oauth
    return service


CurrentActor = Annotated[Actor, Depends(_actor)]  # any signed-in user
AdminActor = Annotated[Actor, Depends(_admin)]
AppSettings = Annotated[Settings, Depends(get_settings)]
Keys = Annotated[KeyRing, Depends(_keyring)]
Signing = Annotated[SigningKeyService, Depends(_signing)]
Users = Annotated[UserService, Depends(_users)]
ApiKeys = Annotated[ApiKeyService, Depends(_api_keys)]
OAuth = Annotated[OAuthService, Depends(_oauth)]
