from fastapi import APIRouter

from aigw.keymanager.deps import AppSettings, Keys, Runtime
from aigw.keymanager.users import service
from aigw.keymanager.users.repository import UserRepository
from aigw.keymanager.users.schemas import LoginRequest, TokenResponse

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/login",
    summary="Exchange a username and password for a management access token",
    responses={401: {"description": "Invalid username or password"}},
)
async def login(
    body: LoginRequest, runtime: Runtime, keys: Keys, settings: AppSettings
) -> TokenResponse:
    users = UserRepository(runtime.db)
    return await service.login(
        users, keys, body.username, body.password, settings.token_ttl_seconds
    )
