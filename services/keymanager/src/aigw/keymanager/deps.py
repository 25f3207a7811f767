"""Request-scoped access to what the lifespan put on `app.state` (the shared dependencies of
aigw.common.requests, plus keymanager's key ring)."""

from typing import Annotated

from fastapi import Depends, Request

from aigw.common.requests import CorrelationId, Runtime, correlation_id, get_runtime, get_settings
from aigw.keymanager.settings import Settings
from aigw.keymanager.signing.keys import KeyRing

__all__ = [
    "AppSettings",
    "CorrelationId",
    "Keys",
    "Runtime",
    "correlation_id",
    "get_keyring",
    "get_runtime",
    "get_settings",
]


def get_keyring(request: Request) -> KeyRing:
    keyring: KeyRing = request.app.state.keyring
    return keyring


Keys = Annotated[KeyRing, Depends(get_keyring)]
AppSettings = Annotated[Settings, Depends(get_settings)]
