"""keymanager's FastAPI app: users and login, token signing + JWKS, API keys, OAuth2."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import jwt
from fastapi import APIRouter, FastAPI
from pymongo.errors import PyMongoError

from aigw.common.auth import TokenVerifier
from aigw.common.errors import Unavailable
from aigw.common.mongo import add_store_error_handler
from aigw.common.requests import runtime_ready
from aigw.common.runtime import ServiceRuntime
from aigw.common.service_app import create_service_app
from aigw.keymanager.apikeys import endpoints as apikeys
from aigw.keymanager.apikeys.repository import COLLECTION as API_KEYS
from aigw.keymanager.apikeys.repository import ApiKeyRepository
from aigw.keymanager.apikeys.service import ApiKeyService
from aigw.keymanager.apikeys.test_keys import TestKeyLimits, TestKeyPolicy
from aigw.keymanager.oauth import endpoints as oauth
from aigw.keymanager.oauth.repository import CLIENTS as OAUTH_CLIENTS
from aigw.keymanager.oauth.repository import (
    REVOKED_TOKENS,
    ClientRepository,
    RevokedTokenRepository,
)
from aigw.keymanager.oauth.service import OAuthService
from aigw.keymanager.settings import Settings
from aigw.keymanager.signing import endpoints as signing
from aigw.keymanager.signing.repository import COLLECTION as SIGNING_KEYS
from aigw.keymanager.signing.repository import SigningKeyRepository
from aigw.keymanager.signing.service import SigningKeyService
from aigw.keymanager.throttle import LoginThrottle, ThrottlePolicy
from aigw.keymanager.users import endpoints as users
from aigw.keymanager.users.admin_guard import AdminGuard
from aigw.keymanager.users.offboarding import Offboarding
from aigw.keymanager.users.repository import COLLECTION as USERS
from aigw.keymanager.users.repository import UserRepository
from aigw.keymanager.users.service import UserService, seed_admin

PREFIX = "/api/keymanager/v1"


async def _prepare(app: FastAPI, runtime: ServiceRuntime, settings: Settings) -> None:
    """Indexes, the admin seed and the first signing key; then every service, once."""
    db, outbox = runtime.db, runtime.outbox
    user_repo, key_repo, clients = UserRepository(db), ApiKeyRepository(db), ClientRepository(db)
    test_keys = TestKeyLimits(
        db, TestKeyPolicy(settings.test_key_max_live, settings.test_key_issue_per_minute)
    )
    for repo in (user_repo, key_repo, test_keys, clients):
        await repo.ensure_indexes()
    await seed_admin(user_repo, settings.admin_password.get_secret_value(), outbox)
    signing_keys = SigningKeyService(
        SigningKeyRepository(db), settings.secret_box(), outbox, settings.signing_key_retire_after
    )
    await signing_keys.start()
    offboarding = Offboarding(user_repo, key_repo, clients, outbox)
    app.state.runtime = runtime
    app.state.signing = signing_keys
    app.state.users = UserService(
        user_repo,
        outbox,
        guard=AdminGuard(db),
        throttle=LoginThrottle(db, _throttle_policy(settings)),
        signing=signing_keys,
        offboarding=offboarding,
        token_ttl_seconds=settings.token_ttl_seconds,
    )
    app.state.api_keys = ApiKeyService(key_repo, outbox, test_keys, offboarding)
    app.state.oauth = OAuthService(
        clients,
        RevokedTokenRepository(db),
        outbox,
        signing_keys,
        offboarding,
        settings.oauth_token_ttl_seconds,
    )
    # deletions a stopped keymanager left with credentials still live are finished now
    await offboarding.resume()


def _throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(seconds=settings.login_failure_window_seconds),
        lock=timedelta(seconds=settings.login_lock_seconds),
        max_delay=settings.login_max_delay_seconds,
        source_max_failures=settings.login_source_max_failures,
        user_max_failures=settings.login_user_max_failures,
    )


class _StoredKeys:
    """Own tokens are verified against the key ring in the store, read at each verification
    (one small document, as for signing): a key that left the JWKS, because its grace period
    ended or an emergency rotation by any keymanager process withdrew it, stops verifying
    here at once."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    async def key(self, kid: str) -> jwt.PyJWK | None:
        service: SigningKeyService = self._app.state.signing
        try:
            ring = await service.current()
        except PyMongoError as exc:
            raise Unavailable("Access tokens cannot be verified right now") from exc
        return ring.public_key(kid)


class _StandingTokens:
    """The account behind a token is read from the store once the app has started."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    async def __call__(self, claims: dict[str, Any]) -> None:
        service: UserService = self._app.state.users
        await service.check_standing(claims)


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
        tracer=settings.tracer(),
    )
    add_store_error_handler(app)
    app.state.settings = settings
    app.state.verifier = TokenVerifier(_StoredKeys(app), check_claims=_StandingTokens(app))
    return app
