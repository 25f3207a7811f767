"""Request-scoped access to what a service's lifespan put on `app.state`, shared by every
service: the runtime, the settings, and the caller's correlation id."""

import re
import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request

from aigw.common.runtime import ServiceRuntime
from aigw.common.settings import ServiceSettings

MAX_CORRELATION_ID = 128
_CORRELATION_ID = re.compile(rf"[A-Za-z0-9._:/+=@-]{{1,{MAX_CORRELATION_ID}}}")


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def get_settings(request: Request) -> ServiceSettings:
    """The app's settings; a service narrows the type in its own `Annotated` alias."""
    settings: ServiceSettings = request.app.state.settings
    return settings


def from_state[T](attribute: str, kind: type[T]) -> Callable[[Request], T]:
    """A dependency handing out the lifespan's `app.state.<attribute>` (a use case built once
    per app, shared by every request); `kind` types it for the endpoints."""

    def get(request: Request) -> T:
        value: T = getattr(request.app.state, attribute)
        return value

    return get


def valid_correlation_id(value: str | None) -> str:
    """The caller's correlation id if it is well-formed (1-128 characters of letters, digits
    and `._:/+=@-`); otherwise, absent, over-long or malformed, a fresh one. Never an error:
    a bad id is ignored rather than let into the audit trail or forwarded to other services."""
    if value is not None and _CORRELATION_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def correlation_id(
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> str:
    """A caller's correlation id joins the request's events (and, when a service calls another,
    the other's) to the caller's audit trail. One id per request, even when none was sent."""
    return valid_correlation_id(x_correlation_id)


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
CorrelationId = Annotated[str, Depends(correlation_id)]


async def runtime_ready(app: FastAPI) -> bool:
    """The readiness check of a service app whose lifespan put a `ServiceRuntime` on
    `app.state.runtime`: not ready before the lifespan ran, nor while NATS or MongoDB is down."""
    runtime: ServiceRuntime | None = getattr(app.state, "runtime", None)
    return runtime is not None and await runtime.ready()
