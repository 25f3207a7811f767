"""Sign-up switched off refuses before anything is counted or forwarded."""

from typing import Any

import pytest

from aigw.common.errors import Forbidden
from aigw.devportal.signup.schemas import SignupRequest
from aigw.devportal.signup.service import SignupService
from tests.support.devportal_memory import StoodInKeymanager


class Untouchable:
    """A database no call may reach."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the database was used ({name})")

    def __getitem__(self, name: str) -> Any:
        raise AssertionError(f"the database was used ({name})")


async def test_disabled_sign_up_is_refused_unforwarded_and_uncounted(
    keymanager: StoodInKeymanager,
) -> None:
    service = SignupService(keymanager.client(), Untouchable(), enabled=False, per_minute=5)  # type: ignore[arg-type]

    with pytest.raises(Forbidden, match="Sign-up is disabled"):
        await service.signup(
            SignupRequest(username="newbie", password="password1"), "10.0.0.1", "c"
        )
    assert keymanager.fake.requests == []
