"""The access matrix: every route of publisher, devportal and keymanager, called by every kind
of caller, answers as its row in tests/access/rules.py says (see README, "Who may do what").

The routes come from the apps themselves, so a new route without a rule fails here, and so does
a rule for a route that is gone. One in-process world (real NATS, store, logins) serves them all.
"""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from aigw.common.crypto import generate_master_key
from tests.access.rules import RULES
from tests.support.access.matrix import call, callers, check, expected
from tests.support.access.rule import RouteKey
from tests.support.access.world import World, live_route_keys, running_world
from tests.support.infra import Infra

LIVE = live_route_keys(generate_master_key())
CASES = [
    pytest.param(key, caller, id=f"{key[0]} {key[1]} {key[2]} as {caller}")
    for key in sorted(LIVE)
    for caller in callers(RULES.get(key))
]


def test_every_route_has_a_rule() -> None:
    missing = sorted(LIVE - RULES.keys())
    assert not missing, (
        f"routes without an access rule (add them to tests/access/rules.py): {missing}"
    )


def test_every_rule_has_a_route() -> None:
    stale = sorted(RULES.keys() - LIVE)
    assert not stale, f"access rules for routes that no longer exist: {stale}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(infra: Infra, secret_key: str) -> AsyncIterator[World]:
    async with running_world(infra, secret_key) as running:
        yield running


@pytest.mark.integration
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("key", "caller"), CASES)
async def test_access(world: World, key: RouteKey, caller: str) -> None:
    rule = RULES.get(key)
    assert rule is not None, f"{key} has no access rule: add one to tests/access/rules.py"
    check(expected(rule, caller), await call(world, key, rule, caller))
