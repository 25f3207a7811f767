"""The FastAPI dependencies devportal's endpoints share: who acts (portal users: subscribers
and admins), the use cases the lifespan built once and kept on `app.state`, and the
keymanager client in the caller's name or devportal's own."""

from typing import Annotated

from fastapi import Depends, Request

from aigw.common.actor import Actor, acting_caller
from aigw.common.requests import CorrelationId, from_state, get_settings
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


def get_keymanager(request: Request, correlation: CorrelationId) -> KeymanagerClient:
    """The lifespan's client, calling in the caller's name: its own Authorization header
    (verified by CurrentPrincipal)."""
    client: KeymanagerClient = request.app.state.keymanager
    return client.acting_for(request.headers.get("authorization", ""), correlation)


AppSettings = Annotated[Settings, Depends(get_settings)]
CurrentActor = Annotated[Actor, Depends(acting_caller(*PORTAL_ROLES))]
Keymanager = Annotated[KeymanagerClient, Depends(get_keymanager)]

Applications = Annotated[
    ApplicationService, Depends(from_state("applications", ApplicationService))
]
Subscriptions = Annotated[
    SubscriptionService, Depends(from_state("subscriptions", SubscriptionService))
]
Catalog = Annotated[CatalogService, Depends(from_state("catalog", CatalogService))]
Policies = Annotated[PolicyService, Depends(from_state("policies", PolicyService))]
Keys = Annotated[KeyService, Depends(from_state("keys", KeyService))]
OAuth = Annotated[OAuthKeyService, Depends(from_state("oauth", OAuthKeyService))]
Usage = Annotated[UsageService, Depends(from_state("usage", UsageService))]
Signup = Annotated[SignupService, Depends(from_state("signup", SignupService))]
