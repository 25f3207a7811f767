from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aigw.keymanager.schemas import CamelModel, Collection, RequestModel

Role = Literal["admin", "publisher", "subscriber"]
Username = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]
Password = Annotated[str, Field(min_length=8, max_length=1024)]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a request body (snake_case, like OAuth2)

    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    """OAuth2 token response: these names are snake_case by the OAuth2 standard (RFC 6749)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class SignupRequest(RequestModel):
    username: Username
    password: Password


Roles = Annotated[list[Role], Field(min_length=1, max_length=3)]


def _distinct(roles: list[Role] | None) -> list[Role] | None:
    return None if roles is None else list(dict.fromkeys(roles))  # duplicates collapse


class CreateUserRequest(SignupRequest):
    roles: Roles

    _distinct_roles = field_validator("roles")(_distinct)


class UpdateUserRequest(RequestModel):
    """What an admin changes on an account; a field left out stays as it is."""

    roles: Roles | None = None
    disabled: bool | None = None

    _distinct_roles = field_validator("roles")(_distinct)


class ResetPasswordRequest(RequestModel):
    password: Password


class ChangePasswordRequest(RequestModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: Password


class UserOut(CamelModel):
    username: str
    roles: list[Role]
    disabled: bool = False
    created_time: datetime


UserList = Collection[UserOut]
