"""Developer sign-up (aigw.devportal.signup.service): no token needed."""

from fastapi import APIRouter, Request, status

from aigw.common.client_address import client_source
from aigw.common.errors import ErrorBody
from aigw.devportal.deps import AppSettings, CorrelationId, Signup
from aigw.devportal.signup.schemas import SignedUp, SignupRequest

router = APIRouter(tags=["signup"])


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
    signups: Signup,
    correlation_id: CorrelationId,
) -> SignedUp:
    source = client_source(request, settings.trusted_proxy_networks)
    return await signups.signup(body, source, correlation_id)
