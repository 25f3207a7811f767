"""The routing table's derived indexes, kept incrementally on every add and remove, equal a
full recount after random churn (tests/support/churn.py), event by event."""

import pytest

from aigw.common.events import ApplicationDeleted
from aigw.gateway.routing.builder import apply
from aigw.gateway.routing.table import RoutingTable
from tests.support.churn import churn


@pytest.mark.parametrize("seed", range(40))
def test_incremental_indexes_equal_a_full_recount(seed):
    table = RoutingTable()
    for event in churn(seed, 300, apps=12):
        apply(table, event)
        assert table.indexes() == table.recount(), event
        assert table.subscriptions == set(table.subscription_pairs.values())
        assert set(table.subscription_policies) == table.subscriptions


def test_churn_reaches_the_cases_that_matter():
    """The generator is worth its name: depths come and go, applications die holding things."""
    depths_seen: set[int] = set()
    emptied = False
    for seed in range(40):
        table = RoutingTable()
        for event in churn(seed, 300, apps=12):
            before = table.max_prefix_segments
            apply(table, event)
            depths_seen.add(table.max_prefix_segments)
            emptied = emptied or table.max_prefix_segments < before
    assert depths_seen >= {1, 2, 3, 4}
    assert emptied  # the deepest route went and the maximum came down


def test_deleting_an_application_drops_only_its_own():
    table = RoutingTable()
    events = churn(7, 400, apps=12)
    for event in events:
        apply(table, event)
    for application_id in list(table.application_keys):
        kept = {h for h, k in table.keys.items() if k.application_id != application_id}
        apply(table, ApplicationDeleted(application_id=application_id))
        assert set(table.keys) == kept
        assert all(pair[0] != application_id for pair in table.subscriptions)
        assert table.indexes() == table.recount()
