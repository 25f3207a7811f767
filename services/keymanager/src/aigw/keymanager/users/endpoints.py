from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from aigw.common.auth import CurrentPrincipal, Principal, require_roles
from aigw.common.client_address import client_source
from aigw.common.errors import ErrorBody
from aigw.common.ratelimit import count_signup
from aigw.common.service_auth import require_service
from aigw.keymanager.deps import AppSettings, CorrelationId, Keys, Runtime
from aigw.keymanager.throttle import LoginThrottle, ThrottlePolicy
from aigw.keymanager.users import service
from aigw.keymanager.users.accounts import SIGNUP_ROLES, Accounts
from aigw.keymanager.users.repository import UserRepository
from aigw.keymanager.users.schemas import (
    CreateUserRequest,
    LoginRequest,
    SignupRequest,
    TokenResponse,
    UserList,
    UserOut,
)

router = APIRouter(tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])

Admin = Annotated[Principal, Depends(require_roles("admin"))]
FromDevportal = Annotated[
    str, Depends(require_service("devportal", purpose="Sign-up goes through the developer portal"))
]


def _throttle(runtime: Runtime, settings: AppSettings) -> LoginThrottle:
    policy = ThrottlePolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(seconds=settings.login_failure_window_seconds),
        lock=timedelta(seconds=settings.login_lock_seconds),
        max_delay=settings.login_max_delay_seconds,
        source_max_failures=settings.login_source_max_failures,
        user_max_failures=settings.login_user_max_failures,
    )
    return LoginThrottle(runtime.db, policy)


def _source(request: Request, settings: AppSettings) -> str:
    return client_source(request, settings.trusted_proxy_networks)


Source = Annotated[str, Depends(_source)]


async def _signup_allowed(runtime: Runtime, settings: AppSettings, source: Source) -> None:
    """Per calling address (a devportal process) and minute: a ceiling over devportal's own
    per-client limit."""
    await count_signup(runtime.db, source, settings.signup_per_minute)


def _accounts(runtime: Runtime, correlation_id: CorrelationId) -> Accounts:
    return Accounts(UserRepository(runtime.db), runtime.outbox, correlation_id)


SignupAllowed = Annotated[None, Depends(_signup_allowed)]
Throttle = Annotated[LoginThrottle, Depends(_throttle)]
AccountService = Annotated[Accounts, Depends(_accounts)]


@router.post(
    "/auth/login",
    summary="Exchange a username and password for a management access token",
    response_model=TokenResponse,
    responses={
        401: {"description": "Invalid username or password"},
        429: {
            "model": ErrorBody,
            "description": "Too many failed logins for this username or from this address; "
            "see Retry-After",
        },
    },
)
async def login(
    body: LoginRequest,
    runtime: Runtime,
    throttle: Throttle,
    keys: Keys,
    settings: AppSettings,
    source: Source,
) -> TokenResponse:
    users = UserRepository(runtime.db)
    credentials = (body.username, body.password)
    ttl = settings.token_ttl_seconds
    return await service.login(users, throttle, keys, credentials, source, ttl)


@users_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user with the given roles (admins only)",
    responses={409: {"description": "The username is taken"}},
)
async def create_user(body: CreateUserRequest, admin: Admin, accounts: AccountService) -> UserOut:
    return await accounts.create(body, admin.subject)


@users_router.get("", summary="Every user and their roles (admins only)")
async def list_users(_admin: Admin, accounts: AccountService) -> UserList:
    return await accounts.list()


@users_router.get("/me", summary="The caller's own username and roles")
async def me(principal: CurrentPrincipal, accounts: AccountService) -> UserOut:
    return await accounts.get(principal.subject)


@users_router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    summary="Create a subscriber account; devportal-signed requests only",
    responses={
        409: {"description": "The username is taken"},
        429: {"model": ErrorBody, "description": "Too many sign-ups; see Retry-After"},
    },
)
async def signup(
    body: SignupRequest,
    _caller: FromDevportal,
    _allowed: SignupAllowed,  # after the signature: only devportal's calls are counted
    accounts: AccountService,
) -> UserOut:
    request = CreateUserRequest(username=body.username, password=body.password, roles=SIGNUP_ROLES)
    return await accounts.create(request, body.username)
