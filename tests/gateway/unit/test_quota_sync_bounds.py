"""Quota-exchange counts a gateway accepts from a peer: current windows, plausible counts."""

import pytest

from aigw.gateway.quota.sync import MAX_COUNT, _plausible

NOW = 1_800_000_000.0
MINUTE = int(NOW // 60) * 60


def window(start: object = MINUTE, *counts: object, unit: object = "minute") -> list[object]:
    return ["app", "api", unit, start, *(counts or (1, 2, 3, 5))]


def test_a_current_window_is_taken() -> None:
    assert _plausible([window()], NOW) == [(("app", "api", "minute", MINUTE), (1, 2, 3, 5))]


@pytest.mark.parametrize(
    "bad",
    [
        window(MINUTE, -1000, 0, 0, 0),  # the attack: negative counts lift a quota
        window(MINUTE, MAX_COUNT + 1, 0, 0, 0),
        window(MINUTE, 1.5, 0, 0, 0),
        window(MINUTE, True, 0, 0, 0),
        window(MINUTE, "1", 0, 0, 0),
        window(MINUTE + 3600),  # a window that has not begun: it would never be forgotten
        window(2**40),
        window(MINUTE - 3 * 86_400),
        window(unit="week"),
        ["app", "api", "minute", MINUTE, 1, 2, 3],
        "not a window",
    ],
)
def test_one_implausible_window_refuses_the_whole_message(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each has its own message
        _plausible([window(), bad], NOW)


def test_a_flood_of_windows_is_refused() -> None:
    with pytest.raises(ValueError, match="list of windows"):
        _plausible([window()] * 100_001, NOW)
