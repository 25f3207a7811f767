from pydantic import Field

from aigw.common.schemas import CamelModel, RequestModel


class SignupRequest(RequestModel):
    """Checked by keymanager (username 3-64 of `A-Za-z0-9._@-`, password 8+ characters);
    here only bounded, so its 422 comes back as is."""

    username: str = Field(max_length=256)
    password: str = Field(max_length=1024)


class SignedUp(CamelModel):
    username: str
    roles: list[str]
