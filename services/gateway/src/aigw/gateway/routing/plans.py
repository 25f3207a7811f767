"""Business plans as the gateway enforces them, and their fixed time windows.

Windows are fixed and aligned to the unit in UTC: a minute quota resets at every full minute,
an hour quota at every full hour, a day quota at midnight UTC.
"""

import math
from dataclasses import dataclass, field

from aigw.common.events import PolicyUpdated, QuotaLimit, QuotaUnit

UNLIMITED = "Unlimited"
TEST_KEY = "TestKey"  # the built-in plan of test keys (gateway settings GATEWAY_TEST_KEY_*)
UNIT_SECONDS: dict[QuotaUnit, int] = {"minute": 60, "hour": 3600, "day": 86400}
TOKEN_KINDS = ("prompt_tokens", "completion_tokens", "total_tokens")


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    limits: tuple[QuotaLimit, ...]
    default_completion_tokens: int = 256
    units: tuple[QuotaUnit, ...] = field(init=False)  # each unit once: one counter per window
    limits_tokens: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", tuple(dict.fromkeys(lim.unit for lim in self.limits)))
        tokens = any(getattr(lim, kind) is not None for lim in self.limits for kind in TOKEN_KINDS)
        object.__setattr__(self, "limits_tokens", tokens)

    @classmethod
    def from_event(cls, event: PolicyUpdated) -> "Plan":
        return cls(event.name, tuple(event.limits), event.default_completion_tokens)


def test_key_plan(requests: int, total_tokens: int, completion_tokens: int) -> Plan:
    """What every test key is held to, per user and API: `requests` and `total_tokens` a
    minute; `completion_tokens` reserved by a call that sets no max_tokens."""
    limit = QuotaLimit(unit="minute", requests=requests, total_tokens=total_tokens)
    return Plan(TEST_KEY, (limit,), completion_tokens)


def window_start(now: float, unit: QuotaUnit) -> int:
    size = UNIT_SECONDS[unit]
    return int(now // size) * size


def seconds_to_reset(now: float, unit: QuotaUnit) -> int:
    """Whole seconds until the window of `unit` that holds `now` ends (at least 1)."""
    return max(1, math.ceil(window_start(now, unit) + UNIT_SECONDS[unit] - now))


def duration(seconds: int) -> str:
    """OpenAI's reset format, e.g. `59s`, `6m0s`, `1h2m3s`."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
