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


class CreateUserRequest(SignupRequest):
    roles: list[Role] = Field(min_length=1, max_length=3)

    @field_validator("roles")
    @classmethod
    def _distinct(cls, roles: list[Role]) -> list[Role]:
        return list(dict.fromkeys(roles))  # duplicates collapse, order kept


class UserOut(CamelModel):
    username: str
    roles: list[Role]
    created_time: datetime


UserList = Collection[UserOut]
