"""What became of a call, by the status the gateway answered it with: the one place the four
outcomes are defined, for a record in Python, for a store query and for a report's counter.

- served: the call was answered (any status below 400, a cache hit included);
- refused: the gateway or the provider turned it down (4xx: a bad key, no subscription, a
  quota, a guardrail's 446, a provider's 400), except 499;
- abandoned: 499, the caller went away before the answer was complete;
- error: 5xx, the gateway or the provider failed (502/504: the provider unreachable or slow).
"""

from typing import Any, Literal, get_args

Outcome = Literal["served", "refused", "abandoned", "error"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
CLIENT_CLOSED = 499  # nginx's "client closed request", which the gateway records too

# outcome -> the status range it covers, as a query on the stored `status` field
_RANGES: dict[Outcome, dict[str, int]] = {
    "served": {"$lt": 400},
    "refused": {"$gte": 400, "$lt": 500, "$ne": CLIENT_CLOSED},
    "abandoned": {"$eq": CLIENT_CLOSED},
    "error": {"$gte": 500},
}
# a report's counter of each outcome (plural where the outcome is not already a count)
COUNTER_NAMES: dict[Outcome, str] = {
    "served": "served",
    "refused": "refused",
    "abandoned": "abandoned",
    "error": "errors",
}


def outcome(status: int) -> Outcome:
    if status < 400:
        return "served"
    if status == CLIENT_CLOSED:
        return "abandoned"
    return "refused" if status < 500 else "error"


def status_query(of: Outcome) -> dict[str, Any]:
    """A `find` condition on `status` matching the records of one outcome."""
    return {"status": dict(_RANGES[of])}


def counted(of: Outcome) -> dict[str, Any]:
    """An aggregation expression, true for the records of one outcome (a `$group`'s test)."""
    tests = [{op: ["$status", bound]} for op, bound in _RANGES[of].items()]
    return tests[0] if len(tests) == 1 else {"$and": tests}
