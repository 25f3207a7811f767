"""Request-scoped access to what the lifespan put on `app.state` (the shared dependencies of
aigw.common.requests, plus devportal's own), and who may use the portal."""

from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.auth import Principal, require_roles
from aigw.common.requests import CorrelationId, Runtime, correlation_id, get_runtime, get_settings
from aigw.devportal.audit import Actor
from aigw.devportal.keymanager import KeymanagerClient
from aigw.devportal.settings import Settings

__all__ = [
    "AppSettings",
    "CorrelationId",
    "CurrentActor",
    "Db",
    "Keymanager",
    "KeymanagerService",
    "Runtime",
    "correlation_id",
    "get_actor",
    "get_db",
    "get_keymanager",
    "get_runtime",
    "get_settings",
]


def get_db(request: Request) -> AsyncDatabase[dict[str, Any]]:
    return get_runtime(request).db


# The portal is for subscribers (and admins); a publisher-only account gets 403. It is
# personal for everyone: an admin, too, sees and changes only their own applications.
PORTAL_ROLES = ("subscriber", "admin")
PortalUser = Annotated[Principal, Depends(require_roles(*PORTAL_ROLES))]


def get_keymanager_service(request: Request) -> KeymanagerClient:
    """The lifespan's client: devportal's own calls (sign-up)."""
    client: KeymanagerClient = request.app.state.keymanager
    return client


def get_keymanager(request: Request, correlation: CorrelationId) -> KeymanagerClient:
    """Calls in the caller's name: its own Authorization header (verified by CurrentPrincipal)."""
    authorization = request.headers.get("authorization", "")
    return get_keymanager_service(request).acting_for(authorization, correlation)


def get_actor(principal: PortalUser, correlation: CorrelationId) -> Actor:
    return Actor(principal.subject, correlation)


Db = Annotated[AsyncDatabase[dict[str, Any]], Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
Keymanager = Annotated[KeymanagerClient, Depends(get_keymanager)]
KeymanagerService = Annotated[KeymanagerClient, Depends(get_keymanager_service)]
