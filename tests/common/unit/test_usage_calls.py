"""The per-call usage lists' rules, without a store: outcomes by status, the filters a query
becomes, the cursor, and the record as the API answers it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from aigw.common.errors import InvalidInput
from aigw.common.usage import outcome as outcomes
from aigw.common.usage.calls import (
    CallRecord,
    CallsQuery,
    conditions,
    decode_cursor,
    encode_cursor,
    status_condition,
)
from aigw.common.usage.store import to_doc
from tests.support.usage import record

SUBJECT = {"api_id": "api-1"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "served"),
        (201, "served"),
        (304, "served"),
        (399, "served"),
        (400, "refused"),
        (401, "refused"),
        (429, "refused"),
        (446, "refused"),  # a guardrail intervened
        (498, "refused"),
        (499, "abandoned"),
        (500, "error"),
        (502, "error"),
        (504, "error"),
    ],
)
def test_a_status_has_one_outcome(status: int, expected: str) -> None:
    assert outcomes.outcome(status) == expected


def _matches(query: dict[str, Any], status: int) -> bool:
    """Evaluates a `status_query` range the way the store does."""
    ops = {
        "$lt": lambda a, b: a < b,
        "$gte": lambda a, b: a >= b,
        "$ne": lambda a, b: a != b,
        "$eq": lambda a, b: a == b,
    }
    return all(ops[op](status, bound) for op, bound in query["status"].items())


@pytest.mark.parametrize("status", [100, 200, 399, 400, 429, 446, 498, 499, 500, 599])
def test_the_store_queries_and_counters_agree_with_the_python_rule(status: int) -> None:
    for name in outcomes.OUTCOMES:
        assert _matches(outcomes.status_query(name), status) == (outcomes.outcome(status) == name)
        expression = outcomes.counted(name)
        tests = expression.get("$and", [expression])
        evaluated = all(
            _matches({"status": {op: args[1]}}, status) for t in tests for op, args in t.items()
        )
        assert evaluated == (outcomes.outcome(status) == name)


def test_a_status_filter_is_a_code_or_a_class() -> None:
    assert status_condition("429") == {"status": 429}
    assert status_condition("4xx") == {"status": {"$gte": 400, "$lt": 500}}
    assert status_condition("5xx") == {"status": {"$gte": 500, "$lt": 600}}
    for bad in ("4x", "42", "4290", "600", "6xx", "xx", "abc", "4XX", ""):
        with pytest.raises(InvalidInput):
            status_condition(bad)
        with pytest.raises(ValidationError):
            CallsQuery.model_validate({"status": bad})


def test_without_filters_the_query_is_the_subject() -> None:
    assert conditions(SUBJECT, CallsQuery()) == SUBJECT


def test_the_filters_combine() -> None:
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    query = CallsQuery.model_validate(
        {
            "requestId": "req-1",
            "status": "4xx",
            "outcome": "refused",
            "model": "mistral-small-2409",
            "keyType": "SANDBOX",
            "from": start.isoformat(),
            "to": "2026-03-01T12:00:00",  # no zone: UTC
        }
    )
    assert conditions(SUBJECT, query) == {
        "$and": [
            SUBJECT,
            {"request_id": "req-1"},
            {"status": {"$gte": 400, "$lt": 500}},
            {"status": {"$gte": 400, "$lt": 500, "$ne": 499}},
            {"model": "mistral-small-2409"},
            {"key_type": "SANDBOX"},
            {"time": {"$gte": start, "$lt": start + timedelta(hours=2)}},
        ]
    }
    only_end = CallsQuery.model_validate({"to": start.isoformat()})
    assert conditions(SUBJECT, only_end) == {"$and": [SUBJECT, {"time": {"$lt": start}}]}


def test_a_backwards_window_is_refused() -> None:
    query = CallsQuery.model_validate({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00Z"})
    with pytest.raises(InvalidInput):
        conditions(SUBJECT, query)


def test_unknown_parameters_and_limits_out_of_range_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        CallsQuery.model_validate({"colour": "blue", "statuss": "429"})
    assert {error["loc"][0] for error in refused.value.errors()} == {"colour", "statuss"}
    assert {error["type"] for error in refused.value.errors()} == {"extra_forbidden"}
    for limit in (0, 201, -1):
        with pytest.raises(ValidationError):
            CallsQuery.model_validate({"limit": limit})
    assert CallsQuery().limit == 50
    assert CallsQuery.model_validate({"limit": 200}).limit == 200


def test_a_cursor_names_a_time_and_a_record() -> None:
    at = datetime(2026, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
    for record_id in ("abc", "with|bar", "ünïcode"):
        assert decode_cursor(encode_cursor(at, record_id)) == (at, record_id)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "nonsense",
        "!!!",
        "YTE6MTIz",  # "a1:123": the audit trail's
        encode_cursor(datetime(2026, 3, 1, tzinfo=UTC), "x").replace("Y", "Z", 1),
        "YzE6fGFiYw",  # "c1:|abc": no time
        "YzE6MTIzfA",  # "c1:123|": no id
        "YzE6LTF8YQ",  # "c1:-1|a"
    ],
)
def test_a_cursor_this_api_did_not_give_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(cursor)


def test_a_record_answers_its_ids_outcome_and_estimate() -> None:
    made = record("api-1", "app-1", status=499, estimated=True, prompt_tokens=3)
    doc = {"_id": made.record_id, **to_doc(made)}
    answered = CallRecord.from_doc(doc)
    assert (answered.record_id, answered.request_id) == (made.record_id, made.request_id)
    assert answered.outcome == "abandoned"
    assert answered.estimated is True
    assert answered.model == "mistral-small-2409"
    assert answered.total_tokens == 3
    # a record stored before request ids existed has none
    older = {key: value for key, value in doc.items() if key != "request_id"}
    assert CallRecord.from_doc(older).request_id is None
    wire = answered.model_dump(by_alias=True)
    assert {"recordId", "requestId", "apiName", "applicationName", "keyType", "outcome"} <= (
        wire.keys()
    )
