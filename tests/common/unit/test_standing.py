"""The account-standing projection publisher and devportal check every token against."""

import pytest

from aigw.common.errors import Unauthorized, Unavailable
from aigw.common.events import UserCreated, UserDeleted, UserUpdated
from aigw.common.standing import AccountStandings


def _standings() -> AccountStandings:
    standings = AccountStandings()
    standings.fold(UserCreated(username="pat", roles=["publisher"]))
    standings.mark_caught_up()
    return standings


def _claims(version: int | None = 0, sub: str = "pat") -> dict[str, object]:
    claims: dict[str, object] = {"sub": sub, "roles": ["publisher"]}
    if version is not None:
        claims["ver"] = version
    return claims


def test_a_token_of_the_current_version_stands() -> None:
    _standings().check(_claims(0))


def test_before_the_replay_caught_up_no_token_is_judged() -> None:
    with pytest.raises(Unavailable):
        AccountStandings().check(_claims(0))


def test_a_change_to_the_account_ends_older_tokens_only() -> None:
    standings = _standings()
    standings.fold(
        UserUpdated(username="pat", roles=["subscriber"], token_version=1, changes=["roles"])
    )
    with pytest.raises(Unauthorized, match="no longer stands: sign in again"):
        standings.check(_claims(0))
    with pytest.raises(Unauthorized):
        standings.check(_claims(None))  # a token without a version is of version 0
    standings.check(_claims(1))
    standings.check(_claims(2))  # minted after a change the projection has not seen yet


def test_a_disabled_account_has_no_standing_token() -> None:
    standings = _standings()
    standings.fold(UserUpdated(username="pat", roles=["publisher"], disabled=True, token_version=1))
    with pytest.raises(Unauthorized):
        standings.check(_claims(1))


def test_a_delete_is_final() -> None:
    standings = _standings()
    standings.fold(UserDeleted(username="pat"))
    standings.fold(UserUpdated(username="pat", roles=["admin"], token_version=9))  # replayed late
    with pytest.raises(Unauthorized):
        standings.check(_claims(9))


def test_an_older_update_does_not_undo_a_newer_one() -> None:
    standings = _standings()
    standings.fold(UserUpdated(username="pat", roles=["publisher"], disabled=True, token_version=2))
    standings.fold(UserUpdated(username="pat", roles=["publisher"], token_version=1))
    with pytest.raises(Unauthorized):
        standings.check(_claims(2))


def test_a_forged_version_type_is_refused() -> None:
    with pytest.raises(Unauthorized):
        _standings().check({"sub": "pat", "ver": "99"})


def test_an_account_never_seen_stands() -> None:
    _standings().check(_claims(0, sub="newcomer"))
