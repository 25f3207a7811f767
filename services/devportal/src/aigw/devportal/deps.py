"""The FastAPI dependencies devportal's endpoints share: who acts (portal users: subscribers
and admins), the use cases the lifespan built once and kept on `app.state`, and the
keymanager client in the caller's name or devportal's own."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from aigw.common.actor import Actor
from aigw.common.auth import Principal, require_roles
from aigw.common.requests import CorrelationId, get_settings
from aigw.devportal.applications.service import ApplicationService
from aigw.devportal.catalog.service import CatalogService
from aigw.devportal.keymanager import KeymanagerClient
from aigw.devportal.keys.service import KeyService
from aigw.devportal.oauth.service import OAuthKeyService
from aigw.devportal.policies.service import PolicyService
from aigw.devportal.settings import Settings
from aigw.devportal.signup.service import SignupService
from aigw.devportal.subscriptions.service import SubscriptionService
from aigw.devportal.usage.service import UsageService

__all__ = [
    "AppSettings",
    "Applications",
    "Catalog",
    "CorrelationId",
    "CurrentActor",
    "Keymanager",
    "Keys",
    "OAuth",
    "Policies",
    "Signup",
    "Subscriptions",
    "Usage",
]

# The portal is for subscribers (and admins); a publisher-only account gets 403. It is
# personal for everyone: an admin, too, sees and changes only their own applications.
PORTAL_ROLES = ("subscriber", "admin")
PortalUser = Annotated[Principal, Depends(require_roles(*PORTAL_ROLES))]


def get_actor(principal: PortalUser, correlation: CorrelationId) -> Actor:
    return Actor(principal.subject, correlation, admin=principal.has_any("admin"))


def get_keymanager(request: Request, correlation: CorrelationId) -> KeymanagerClient:
    """The lifespan's client, calling in the caller's name: its own Authorization header
    (verified by CurrentPrincipal)."""
    client: KeymanagerClient = request.app.state.keymanager
    return client.acting_for(request.headers.get("authorization", ""), correlation)


def _state[T](attribute: str, kind: type[T]) -> Callable[[Request], T]:
    """The lifespan's `app.state.<attribute>` (one per app, shared by every request)."""

    def get(request: Request) -> T:
        value: T = getattr(request.app.state, attribute)
        return value

    return get


AppSettings = Annotated[Settings, Depends(get_settings)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
Keymanager = Annotated[KeymanagerClient, Depends(get_keymanager)]

Applications = Annotated[ApplicationService, Depends(_state("applications", ApplicationService))]
Subscriptions = Annotated[
    SubscriptionService, Depends(_state("subscriptions", SubscriptionService))
]
Catalog = Annotated[CatalogService, Depends(_state("catalog", CatalogService))]
Policies = Annotated[PolicyService, Depends(_state("policies", PolicyService))]
Keys = Annotated[KeyService, Depends(_state("keys", KeyService))]
OAuth = Annotated[OAuthKeyService, Depends(_state("oauth", OAuthKeyService))]
Usage = Annotated[UsageService, Depends(_state("usage", UsageService))]
Signup = Annotated[SignupService, Depends(_state("signup", SignupService))]
