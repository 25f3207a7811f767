from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from aigw.common.auth import CurrentPrincipal, Principal, require_roles
from aigw.common.client_address import client_source
from aigw.common.errors import ErrorBody
from aigw.common.ratelimit import count_signup
from aigw.common.service_auth import require_service
from aigw.keymanager.deps import AppSettings, CorrelationId, Keys, Offboard, Runtime
from aigw.keymanager.throttle import LoginThrottle, ThrottlePolicy
from aigw.keymanager.users import service
from aigw.keymanager.users.accounts import SIGNUP_ROLES, Accounts
from aigw.keymanager.users.admin_guard import AdminGuard
from aigw.keymanager.users.administration import Administration
from aigw.keymanager.users.repository import UserRepository
from aigw.keymanager.users.schemas import (
    ChangePasswordRequest,
    CreateUserRequest,
    LoginRequest,
    ResetPasswordRequest,
    SignupRequest,
    TokenResponse,
    UpdateUserRequest,
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


def _administration(
    runtime: Runtime, correlation_id: CorrelationId, offboard: Offboard
) -> Administration:
    users = UserRepository(runtime.db)
    guard = AdminGuard(runtime.db)
    return Administration(users, guard, runtime.outbox, correlation_id, offboard)


SignupAllowed = Annotated[None, Depends(_signup_allowed)]
AdminService = Annotated[Administration, Depends(_administration)]
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


_LAST_ADMIN = {
    "model": ErrorBody,
    "description": "An admin's own account, or the last enabled admin: the platform keeps one",
}
_NO_USER = {"model": ErrorBody, "description": "No such user"}


@users_router.put(
    "/me/password",
    summary="Change the caller's own password; answers a new token, the older ones end",
    response_model=TokenResponse,
    responses={
        403: {"model": ErrorBody, "description": "The current password is wrong"},
        429: {
            "model": ErrorBody,
            "description": "Too many failed logins for this username or from this address",
        },
    },
)
async def change_own_password(
    body: ChangePasswordRequest,
    principal: CurrentPrincipal,
    runtime: Runtime,
    throttle: Throttle,
    keys: Keys,
    settings: AppSettings,
    source: Source,
    correlation_id: CorrelationId,
) -> TokenResponse:
    users = UserRepository(runtime.db)
    caller = (principal.subject, source)
    changed = await service.change_own_password(
        users, throttle, runtime.outbox, caller, body, correlation_id
    )
    return service.issue_token(keys, changed, settings.token_ttl_seconds)


@users_router.patch(
    "/{username}",
    summary="Change a user's roles or disable/enable them (admins only); their tokens end",
    responses={404: _NO_USER, 409: _LAST_ADMIN},
)
async def update_user(
    username: str, body: UpdateUserRequest, admin: Admin, administration: AdminService
) -> UserOut:
    return await administration.update(username, body, admin.subject)


@users_router.delete(
    "/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user (admins only); the name is never given out again",
    description="Their tokens stop at once (keymanager, publisher, devportal) and their API "
    "keys and OAuth2 clients are revoked (each with its revocation event, so the gateways "
    "drop them). Disabling a user (PATCH) ends their management access only: their keys "
    "keep working until revoked or the user is deleted.",
    responses={404: _NO_USER, 409: _LAST_ADMIN},
)
async def delete_user(username: str, admin: Admin, administration: AdminService) -> None:
    await administration.delete(username, admin.subject)


@users_router.post(
    "/{username}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password for a user (admins only); their tokens end",
    responses={404: _NO_USER},
)
async def reset_password(
    username: str, body: ResetPasswordRequest, admin: Admin, administration: AdminService
) -> None:
    await administration.reset_password(username, body.password, admin.subject)


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
