"""The plans every publisher database starts with (seeded once; admins may change or delete
all but `Unlimited`)."""

from aigw.publisher.policies.schemas import UNLIMITED, LimitBody, PolicyIn


def _requests_tier(name: str, per_minute: int) -> PolicyIn:
    return PolicyIn(
        name=name,
        description=f"Allows {per_minute} requests per minute",
        limits=[LimitBody(unit="minute", requests=per_minute)],
    )


def _token_tier(name: str, tokens: int, requests: int) -> PolicyIn:
    return PolicyIn(
        name=name,
        description=f"Allows {tokens} total tokens and {requests} requests per minute",
        limits=[LimitBody(unit="minute", total_tokens=tokens, requests=requests)],
    )


DEFAULT_POLICIES: tuple[PolicyIn, ...] = (
    PolicyIn(name=UNLIMITED, description="Allows unlimited requests and tokens"),
    _requests_tier("Gold", 5000),
    _requests_tier("Silver", 2000),
    _requests_tier("Bronze", 1000),
    _token_tier("AITokensGold", 100_000, 5000),
    _token_tier("AITokensSilver", 50_000, 2000),
    _token_tier("AITokensBronze", 10_000, 1000),
)
