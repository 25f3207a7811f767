from typing import Literal

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    """OAuth2 token response: these names are snake_case by the OAuth2 standard (RFC 6749)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
