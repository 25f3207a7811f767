"""Request-scoped access to what the lifespan put on `app.state` (the shared dependencies of
aigw.common.requests, plus devportal's own), and who may use the portal."""

from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.auth import Principal, require_roles
from aigw.common.requests import CorrelationId, Runtime, correlation_id, get_runtime, get_settings
from aigw.devportal.audit import Actor
from aigw.devportal.settings import Settings

__all__ = [
    "AppSettings",
    "CorrelationId",
    "CurrentActor",
    "Db",
    "Runtime",
    "correlation_id",
    "get_actor",
    "get_db",
    "get_runtime",
    "get_settings",
]


def get_db(request: Request) -> AsyncDatabase[dict[str, Any]]:
    return get_runtime(request).db


# The portal is for subscribers (and admins); a publisher-only account gets 403. It is
# personal for everyone: an admin, too, sees and changes only their own applications.
PORTAL_ROLES = ("subscriber", "admin")
PortalUser = Annotated[Principal, Depends(require_roles(*PORTAL_ROLES))]


def get_actor(principal: PortalUser, correlation: CorrelationId) -> Actor:
    return Actor(principal.subject, correlation)


Db = Annotated[AsyncDatabase[dict[str, Any]], Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
