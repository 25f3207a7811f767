"""Request-scoped access to what the lifespan put on `app.state`."""

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.auth import CurrentPrincipal
from aigw.common.runtime import ServiceRuntime
from aigw.devportal.audit import Actor
from aigw.devportal.settings import Settings


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def get_db(request: Request) -> AsyncDatabase[dict[str, Any]]:
    return get_runtime(request).db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def correlation_id(
    x_correlation_id: Annotated[str | None, Header(max_length=128)] = None,
) -> str | None:
    """A caller's correlation id joins our events (and keymanager's) to its audit trail."""
    return x_correlation_id


CorrelationId = Annotated[str | None, Depends(correlation_id)]


def get_actor(principal: CurrentPrincipal, correlation: CorrelationId) -> Actor:
    return Actor(principal.subject, correlation)


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Db = Annotated[AsyncDatabase[dict[str, Any]], Depends(get_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CurrentActor = Annotated[Actor, Depends(get_actor)]
