"""Developer sign-up: anyone may create a subscriber account, unless the operator switched it
off (DEVPORTAL_SIGNUP_ENABLED=false), at most DEVPORTAL_SIGNUP_PER_MINUTE per client address
(then 429 with Retry-After). devportal forwards the request to keymanager, signed as
devportal (aigw.devportal.keymanager): keymanager creates accounts only on that signature, and
only with the subscriber role. The password is passed on once and never logged or stored here.
"""

from fastapi import APIRouter, Request, status
from pydantic import Field

from aigw.common.client_address import client_source
from aigw.common.errors import ErrorBody, Forbidden
from aigw.common.ratelimit import count_signup
from aigw.common.schemas import CamelModel, RequestModel
from aigw.devportal.deps import AppSettings, CorrelationId, Db, KeymanagerService

router = APIRouter(tags=["signup"])


class SignupRequest(RequestModel):
    """Checked by keymanager (username 3-64 of `A-Za-z0-9._@-`, password 8+ characters);
    here only bounded, so its 422 comes back as is."""

    username: str = Field(max_length=256)
    password: str = Field(max_length=1024)


class SignedUp(CamelModel):
    username: str
    roles: list[str]


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    summary="Create a subscriber account (no token needed), if sign-up is enabled",
    responses={
        403: {"description": "Sign-up is disabled"},
        409: {"description": "The username is taken"},
        429: {"model": ErrorBody, "description": "Too many sign-ups; see Retry-After"},
        502: {"description": "Keymanager failed"},
    },
)
async def signup(
    body: SignupRequest,
    request: Request,
    settings: AppSettings,
    db: Db,
    keymanager: KeymanagerService,
    correlation_id: CorrelationId,
) -> SignedUp:
    if not settings.signup_enabled:
        raise Forbidden("Sign-up is disabled", message="Sign-up is disabled")
    source = client_source(request, settings.trusted_proxy_networks)
    await count_signup(db, source, settings.signup_per_minute)
    return await keymanager.signup(SignedUp, body.model_dump(mode="json"), correlation_id)
