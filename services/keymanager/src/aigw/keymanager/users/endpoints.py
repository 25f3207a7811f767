"""`/auth/login` and `/users`: login, accounts, an admin's changes to them, sign-up."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from aigw.common.actor import Actor
from aigw.common.client_address import client_source
from aigw.common.errors import ErrorBody
from aigw.common.ratelimit import count_signup
from aigw.common.service_auth import require_service
from aigw.keymanager.deps import (
    AdminActor,
    AppSettings,
    CorrelationId,
    CurrentActor,
    Runtime,
    Users,
)
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

FromDevportal = Annotated[
    str, Depends(require_service("devportal", purpose="Sign-up goes through the developer portal"))
]


def _source(request: Request, settings: AppSettings) -> str:
    return client_source(request, settings.trusted_proxy_networks)


Source = Annotated[str, Depends(_source)]


async def _signup_allowed(runtime: Runtime, settings: AppSettings, source: Source) -> None:
    """Per calling address (a devportal process) and minute: a ceiling over devportal's own
    per-client limit."""
    await count_signup(runtime.db, source, settings.signup_per_minute)


SignupAllowed = Annotated[None, Depends(_signup_allowed)]


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
async def login(body: LoginRequest, users: Users, source: Source) -> TokenResponse:
    return await users.login(body.username, body.password, source)


@users_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user with the given roles (admins only)",
    responses={409: {"description": "The username is taken"}},
)
async def create_user(body: CreateUserRequest, actor: AdminActor, users: Users) -> UserOut:
    return await users.create(body, actor)


@users_router.get("", summary="Every user and their roles (admins only)")
async def list_users(_admin: AdminActor, users: Users) -> UserList:
    return await users.list()


@users_router.get("/me", summary="The caller's own username and roles")
async def me(actor: CurrentActor, users: Users) -> UserOut:
    return await users.get(actor.subject)


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
    body: ChangePasswordRequest, actor: CurrentActor, users: Users, source: Source
) -> TokenResponse:
    return await users.change_own_password(body, actor, source)


@users_router.patch(
    "/{username}",
    summary="Change a user's roles or disable/enable them (admins only); their tokens end",
    responses={404: _NO_USER, 409: _LAST_ADMIN},
)
async def update_user(
    username: str, body: UpdateUserRequest, actor: AdminActor, users: Users
) -> UserOut:
    return await users.update(username, body, actor)


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
async def delete_user(username: str, actor: AdminActor, users: Users) -> None:
    await users.delete(username, actor)


@users_router.post(
    "/{username}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a new password for a user (admins only); their tokens end",
    responses={404: _NO_USER},
)
async def reset_password(
    username: str, body: ResetPasswordRequest, actor: AdminActor, users: Users
) -> None:
    await users.reset_password(username, body.password, actor)


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
    users: Users,
    correlation_id: CorrelationId,
) -> UserOut:
    # the new user is who acted: devportal only forwards their form
    return await users.sign_up(body, Actor(body.username, correlation_id))
