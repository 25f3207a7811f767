"""Failed logins are slowed more and more, reaching the longest delay at the locking one."""

from datetime import timedelta

from aigw.keymanager.throttle import ThrottlePolicy

POLICY = ThrottlePolicy(
    max_failures=5,
    window=timedelta(minutes=5),
    lock=timedelta(minutes=1),
    max_delay=1.0,
    source_max_failures=20,
    user_max_failures=100,
)


def test_the_delay_doubles_up_to_the_maximum() -> None:
    delays = [POLICY.delay(n) for n in range(1, 8)]
    assert delays == [0.0625, 0.125, 0.25, 0.5, 1.0, 1.0, 1.0]
