"""keymanager's FastAPI app: users and login, token signing + JWKS, API keys."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
from fastapi import APIRouter, FastAPI
from pymongo.errors import PyMongoError

from aigw.common.auth import TokenVerifier
from aigw.common.errors import Unavailable
from aigw.common.requests import runtime_ready
from aigw.common.runtime import ServiceRuntime
from aigw.common.service_app import create_service_app
from aigw.keymanager.apikeys import endpoints as apikeys
from aigw.keymanager.apikeys.repository import COLLECTION as API_KEYS
from aigw.keymanager.apikeys.repository import ApiKeyRepository
from aigw.keymanager.apikeys.test_keys import TestKeyLimits, TestKeyPolicy
from aigw.keymanager.deps import get_offboarding
from aigw.keymanager.oauth import endpoints as oauth
from aigw.keymanager.oauth.repository import CLIENTS as OAUTH_CLIENTS
from aigw.keymanager.oauth.repository import REVOKED_TOKENS, ClientRepository
from aigw.keymanager.settings import Settings
from aigw.keymanager.signing import endpoints as signing
from aigw.keymanager.signing.repository import COLLECTION as SIGNING_KEYS
from aigw.keymanager.signing.repository import SigningKeyStore
from aigw.keymanager.users import endpoints as users
from aigw.keymanager.users.repository import COLLECTION as USERS
from aigw.keymanager.users.repository import UserRepository
from aigw.keymanager.users.service import seed_admin, standing_tokens

PREFIX = "/api/keymanager/v1"


async def _prepare(app: FastAPI, runtime: ServiceRuntime, settings: Settings) -> None:
    user_repo = UserRepository(runtime.db)
    await user_repo.ensure_indexes()
    await ApiKeyRepository(runtime.db).ensure_indexes()
    policy = TestKeyPolicy(settings.test_key_max_live, settings.test_key_issue_per_minute)
    await TestKeyLimits(runtime.db, policy).ensure_indexes()
    await ClientRepository(runtime.db).ensure_indexes()
    await seed_admin(user_repo, settings.admin_password.get_secret_value(), runtime.outbox)
    keys = SigningKeyStore(
        runtime.db, settings.secret_box(), runtime.outbox, settings.signing_key_retire_after
    )
    await keys.start()
    app.state.signing_keys = keys
    app.state.runtime = runtime
    # deletions a stopped keymanager left with credentials still live are finished now
    await get_offboarding(runtime, uuid.uuid4().hex).resume()


class _StoredKeys:
    """Own tokens are verified against the key ring in the store, read at each verification
    (one small document, as for signing): a key that left the JWKS, because its grace period
    ended or an emergency rotation by any keymanager process withdrew it, stops verifying
    here at once."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    async def key(self, kid: str) -> jwt.PyJWK | None:
        store: SigningKeyStore = self._app.state.signing_keys
        try:
            ring = await store.current()
        except PyMongoError as exc:
            raise Unavailable("Access tokens cannot be verified right now") from exc
        return ring.public_key(kid)


class _StandingTokens:
    """The account behind a token is read from the store once the app has started."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    async def __call__(self, claims: dict[str, Any]) -> None:
        runtime: ServiceRuntime = self._app.state.runtime
        await standing_tokens(UserRepository(runtime.db))(claims)


def _api_router() -> APIRouter:
    api = APIRouter(prefix=PREFIX)
    for module in (users, signing, apikeys):
        api.include_router(module.router)
    api.include_router(users.users_router)
    api.include_router(oauth.clients_router)
    api.include_router(oauth.oauth2_router)
    return api


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with ServiceRuntime(
            settings,
            database=settings.mongodb_db,
            outbox_collections=[API_KEYS, OAUTH_CLIENTS, REVOKED_TOKENS, USERS, SIGNING_KEYS],
            registry=app.state.metrics_registry,
        ) as runtime:
            await _prepare(app, runtime, settings)
            yield

    app = create_service_app(
        title="aigw keymanager",
        description="Users and login, management-token signing and JWKS, API keys.",
        lifespan=lifespan,
        routers=[_api_router()],
        ready=runtime_ready,
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_origin_list,
        web_dir=settings.web_dir,
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(_StoredKeys(app), check_claims=_StandingTokens(app))
    return app
