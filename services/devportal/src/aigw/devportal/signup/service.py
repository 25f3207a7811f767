"""Developer sign-up: anyone may create a subscriber account, unless the operator switched it
off (DEVPORTAL_SIGNUP_ENABLED=false), at most DEVPORTAL_SIGNUP_PER_MINUTE per client address
(then 429 with Retry-After). devportal forwards the request to keymanager, signed as
devportal (aigw.devportal.keymanager): keymanager creates accounts only on that signature, and
only with the subscriber role. The password is passed on once and never logged or stored here.
"""

from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.errors import Forbidden
from aigw.common.mongo import Document
from aigw.common.ratelimit import count_signup
from aigw.devportal.keymanager import KeymanagerClient
from aigw.devportal.signup.schemas import SignedUp, SignupRequest


class SignupService:
    def __init__(
        self,
        keymanager: KeymanagerClient,
        db: AsyncDatabase[Document],
        *,
        enabled: bool,
        per_minute: int,
    ) -> None:
        self._keymanager = keymanager  # devportal's own client: no caller to act for
        self._db = db  # the sign-up budgets (aigw.common.ratelimit)
        self._enabled = enabled
        self._per_minute = per_minute

    async def signup(self, body: SignupRequest, source: str, correlation_id: str) -> SignedUp:
        """A subscriber account for a sign-up from client address `source`."""
        if not self._enabled:
            raise Forbidden("Sign-up is disabled", message="Sign-up is disabled")
        await count_signup(self._db, source, self._per_minute)
        return await self._keymanager.signup(SignedUp, body, correlation_id)
