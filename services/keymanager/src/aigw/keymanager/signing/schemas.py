"""Request and response bodies of `/signing-keys`."""

from datetime import datetime

from pydantic import Field

from aigw.keymanager.schemas import CamelModel, RequestModel


class RotateRequest(RequestModel):
    emergency: bool = Field(
        False,
        description="the previous key may have leaked: it stops verifying at once (gone from "
        "the JWKS, and gateways drop it), so every token it signed is refused; "
        "false: it verifies until its tokens expired",
    )


class RotatedKey(CamelModel):
    kid: str
    previous_kid: str | None
    previous_valid_until: datetime | None = Field(
        description="when the previous key stops verifying (now after an emergency rotation)"
    )
