"""Request-scoped access to what the lifespan put on `app.state` (the shared dependencies of
aigw.common.requests, plus keymanager's signing keys)."""

from typing import Annotated

from fastapi import Depends, Request

from aigw.common.requests import CorrelationId, Runtime, correlation_id, get_runtime, get_settings
from aigw.keymanager.apikeys.repository import ApiKeyRepository
from aigw.keymanager.oauth.repository import ClientRepository
from aigw.keymanager.settings import Settings
from aigw.keymanager.signing.keys import KeyRing
from aigw.keymanager.signing.repository import SigningKeyStore
from aigw.keymanager.users.offboarding import Offboarding
from aigw.keymanager.users.repository import UserRepository

__all__ = [
    "AppSettings",
    "CorrelationId",
    "Keys",
    "Offboard",
    "Runtime",
    "SigningKeys",
    "correlation_id",
    "get_keyring",
    "get_offboarding",
    "get_runtime",
    "get_settings",
    "get_signing_keys",
]


def get_signing_keys(request: Request) -> SigningKeyStore:
    store: SigningKeyStore = request.app.state.signing_keys
    return store


async def get_keyring(store: Annotated[SigningKeyStore, Depends(get_signing_keys)]) -> KeyRing:
    """Read from the store per request, so a rotation by any keymanager process applies here."""
    return await store.current()


Keys = Annotated[KeyRing, Depends(get_keyring)]
SigningKeys = Annotated[SigningKeyStore, Depends(get_signing_keys)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def get_offboarding(runtime: Runtime, correlation_id: CorrelationId) -> Offboarding:
    db = runtime.db
    return Offboarding(
        UserRepository(db),
        ApiKeyRepository(db),
        ClientRepository(db),
        runtime.outbox,
        correlation_id,
    )


Offboard = Annotated[Offboarding, Depends(get_offboarding)]
