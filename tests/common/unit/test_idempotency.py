"""The pure parts of idempotency keys and of the store's outage handling: which request a key
was used for, which pymongo errors mean an unreachable store, and update documents merged."""

from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from aigw.common.idempotency import fingerprint
from aigw.common.mongo import merged, store_unreachable


def test_a_json_body_counts_by_its_value_not_its_spacing():
    same = fingerprint("POST", "/apis/a/deploy", b'{"a": 1, "b": [1, 2]}')
    assert same == fingerprint("POST", "/apis/a/deploy", b'{"b":[1,2],"a":1}')
    assert same != fingerprint("POST", "/apis/a/deploy", b'{"a": 2, "b": [1, 2]}')
    assert same != fingerprint("POST", "/apis/b/deploy", b'{"a": 1, "b": [1, 2]}')
    assert fingerprint("POST", "/x", b"") != fingerprint("POST", "/x", b"not json")


def test_unreachable_or_slow_store_errors_are_told_from_refusals():
    for unreachable in (
        ServerSelectionTimeoutError("no servers"),
        AutoReconnect("connection reset"),
        NetworkTimeout("timed out"),
        ExecutionTimeout("operation exceeded time limit", 50),
    ):
        assert store_unreachable(unreachable), unreachable
    for refused in (DuplicateKeyError("E11000"), OperationFailure("bad update", 9)):
        assert not store_unreachable(refused), refused


def test_merged_updates_keep_every_operators_fields():
    change = {"$set": {"a": 1}, "$push": {"marks": {"$each": [1]}}}
    outbox = {"$push": {"_outbox": {"$each": ["e"]}}}
    assert merged(change, outbox) == {
        "$set": {"a": 1},
        "$push": {"marks": {"$each": [1]}, "_outbox": {"$each": ["e"]}},
    }
