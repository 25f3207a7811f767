"""Request-scoped access to what the lifespan put on `app.state`."""

from typing import Annotated

from fastapi import Depends, Header, Request

from aigw.common.runtime import ServiceRuntime
from aigw.keymanager.settings import Settings
from aigw.keymanager.signing.keys import KeyRing


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def get_keyring(request: Request) -> KeyRing:
    keyring: KeyRing = request.app.state.keyring
    return keyring


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def correlation_id(
    x_correlation_id: Annotated[str | None, Header(max_length=128)] = None,
) -> str | None:
    """Callers (e.g. devportal) may pass their correlation id so events join the same trail."""
    return x_correlation_id


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
Keys = Annotated[KeyRing, Depends(get_keyring)]
AppSettings = Annotated[Settings, Depends(get_settings)]
CorrelationId = Annotated[str | None, Depends(correlation_id)]
