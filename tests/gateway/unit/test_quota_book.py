"""Quota counters: admission rules, settlement, headers and the cross-process split."""

from aigw.common.events import QuotaLimit
from aigw.gateway.quota.book import Cost, QuotaBook
from aigw.gateway.routing.plans import Plan, duration, seconds_to_reset, window_start

NOW = 1_700_000_030.0  # 30 s into a minute
PLAN = Plan("p", (QuotaLimit(unit="minute", requests=2), QuotaLimit(unit="hour", total_tokens=100)))


def test_windows_and_reset_format():
    assert window_start(NOW, "minute") % 60 == 0
    assert seconds_to_reset(NOW, "minute") == 60 - (int(NOW) % 60)
    assert [duration(s) for s in (5, 360, 3723)] == ["5s", "6m0s", "1h2m3s"]


def test_requests_are_admitted_up_to_the_limit():
    book = QuotaBook()
    for _ in range(2):
        assert book.check("a", "x", PLAN, Cost(1, 0, 0), NOW) is None
        book.charge("a", "x", PLAN, Cost(1, 0, 0), NOW)
    verdict = book.check("a", "x", PLAN, Cost(1, 0, 0), NOW)
    assert verdict is not None
    assert verdict.kind == "requests"
    assert verdict.retry_after == seconds_to_reset(NOW, "minute")
    assert not verdict.retry_after_sync
    assert book.check("b", "x", PLAN, Cost(1, 0, 0), NOW) is None  # per subscription


def test_tokens_are_reserved_then_settled_or_released():
    book = QuotaBook()
    plan = Plan("t", (QuotaLimit(unit="hour", total_tokens=100),))
    admission = book.charge("a", "x", plan, Cost(1, 30, 50), NOW)
    key = admission.keys[0]
    assert book.used(key, 3) == 80
    assert dict(admission.headers)[b"x-ratelimit-remaining-tokens"] == b"20"
    book.settle(admission, 30, 10, 40)
    assert book.used(key, 3) == 40
    other = book.charge("a", "x", plan, Cost(1, 30, 50), NOW)
    book.release(other)
    assert book.used(key, 3) == 40
    assert book.used(key, 0) == 2
    book.charge("a", "x", plan, Cost(1, 60, 0), NOW)  # used reaches 100
    verdict = book.check("a", "x", plan, Cost(1, 1, 1), NOW)
    assert verdict is not None
    assert verdict.kind == "total_tokens"


def test_one_counter_per_window_even_with_several_limits_of_one_unit():
    plan = Plan(
        "m", (QuotaLimit(unit="minute", requests=5), QuotaLimit(unit="minute", prompt_tokens=9))
    )
    book = QuotaBook()
    admission = book.charge("a", "x", plan, Cost(1, 3, 0), NOW)
    assert len(admission.keys) == 1
    assert book.used(admission.keys[0], 0) == 1


def test_peers_split_what_is_left_until_counts_are_confirmed():
    plan = Plan("r", (QuotaLimit(unit="minute", requests=10),))
    book = QuotaBook()
    book.peers = 1
    admitted = 0
    while book.check("a", "x", plan, Cost(1, 0, 0), NOW) is None:
        book.charge("a", "x", plan, Cost(1, 0, 0), NOW)
        admitted += 1
    assert admitted == 5
    verdict = book.check("a", "x", plan, Cost(1, 0, 0), NOW)
    assert verdict is not None
    assert verdict.retry_after_sync  # the exact count still has room
    book.take_changes(everything=False, confirmed=False)
    assert book.check("a", "x", plan, Cost(1, 0, 0), NOW) is not None  # published, unconfirmed
    book.take_changes(everything=False, confirmed=True)
    assert book.check("a", "x", plan, Cost(1, 0, 0), NOW) is None
    key = next(iter(book.own))
    book.peer_update("peer", key, (5, 0, 0, 0))
    book.peer_update("peer", key, (5, 0, 0, 0))  # a repeated message changes nothing
    assert book.used(key, 0) == 10


def test_ended_windows_are_forgotten():
    book = QuotaBook()
    book.charge("a", "x", PLAN, Cost(1, 0, 0), NOW)
    book.forget_ended(NOW + 61)
    assert [key[2] for key in book.own] == ["hour"]
