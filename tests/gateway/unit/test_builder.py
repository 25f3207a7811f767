from datetime import UTC, datetime, timedelta

from aigw.common.crypto import SecretBox, generate_master_key, provider_key_context, sha256_hex
from aigw.common.events import (
    ApiDeleted,
    ApiDeployed,
    ApiUndeployed,
    ApplicationDeleted,
    DeployedEndpoint,
    KeyIssued,
    KeyRevoked,
    SubscriptionCreated,
    SubscriptionDeleted,
)
from aigw.common.vendors import builtin_spec
from aigw.gateway.routing.builder import apply
from aigw.gateway.routing.table import RoutingTable

BOX = SecretBox(generate_master_key())
OPENAI = builtin_spec("OpenAI", "v1")
assert OPENAI is not None


def deployed(api_id="api1", revision=1, prefix="chat/1.0", key="sk-prod", box=BOX):
    return ApiDeployed(
        api_id=api_id,
        revision=revision,
        name="Chat",
        version="1.0",
        route_prefix=prefix,
        vendor=OPENAI,
        production=DeployedEndpoint(
            url="http://provider/production/",
            api_key_ciphertext=box.encrypt(
                key, provider_key_context(api_id, "production", "http://provider")
            ),
        ),
        sandbox=DeployedEndpoint(url="http://provider/sandbox"),
    )


def issued(key_id="k1", key="secret-1", app="app1", key_type="PRODUCTION", api_id=None, **kw):
    return KeyIssued(
        key_id=key_id,
        key_hash=sha256_hex(key),
        application_id=app,
        key_type=key_type,
        api_id=api_id,
        **kw,
    )


def subscribed(sub="s1", app="app1", api="api1"):
    return SubscriptionCreated(
        subscription_id=sub, application_id=app, api_id=api, policy="Unlimited"
    )


def build(events, table=None):
    table = table or RoutingTable()
    for event in events:
        apply(table, event, BOX)
    return table


def test_deploy_builds_a_route_with_decrypted_key():
    table = build([deployed(prefix="/chat/1.0/")])
    route = table.routes["chat/1.0"]
    assert route.api_id == "api1"
    assert route.vendor.auth_header == "authorization"
    assert route.vendor.auth_prefix == "Bearer "
    assert route.production is not None
    assert route.production.url == "http://provider/production"
    assert route.production.api_key == "sk-prod"
    assert route.sandbox is not None
    assert route.sandbox.api_key is None
    assert table.max_prefix_segments == 2
    assert "sk-prod" not in repr(route)


def test_key_from_another_secret_is_marked_unusable():
    other = SecretBox(generate_master_key())
    route = build([deployed(box=other)]).routes["chat/1.0"]
    assert route.production is not None
    assert route.production.api_key is None
    assert route.production.key_error


def test_later_revision_wins_and_older_is_ignored():
    table = build([deployed(revision=2, key="sk-2"), deployed(revision=1, key="sk-1")])
    assert table.routes["chat/1.0"].revision == 2
    assert table.routes["chat/1.0"].production.api_key == "sk-2"


def test_new_revision_with_new_prefix_moves_the_route():
    table = build([deployed(revision=1, prefix="a/1"), deployed(revision=2, prefix="b/c/1")])
    assert set(table.routes) == {"b/c/1"}
    assert table.max_prefix_segments == 3


def test_undeploy_and_delete_drop_routes():
    table = build([deployed(), ApiUndeployed(api_id="api1")])
    assert table.routes == {}
    table = build([deployed(revision=2)], table)
    assert "chat/1.0" in table.routes
    table = build([ApiDeleted(api_id="api1"), deployed(revision=3)], table)
    assert table.routes == {}
    assert table.max_prefix_segments == 0


def test_undeploy_drops_only_revisions_at_or_below_its_own():
    table = build([deployed(revision=3), ApiUndeployed(api_id="api1", revision=2)])
    assert table.routes["chat/1.0"].revision == 3  # a newer revision is deployed: it stays
    build([ApiUndeployed(api_id="api1", revision=3)], table)
    assert table.routes == {}
    assert table.max_prefix_segments == 0


def test_undeploy_without_revision_drops_whatever_is_deployed():
    table = build([deployed(revision=4), ApiUndeployed(api_id="api1")])
    assert table.routes == {}
    build([deployed(revision=4), deployed(revision=2)], table)  # re-delivered: stays down
    assert table.routes == {}
    build([deployed(revision=5)], table)  # a new deploy comes back
    assert table.routes["chat/1.0"].revision == 5


def test_redelivered_deploy_does_not_bring_back_an_undeployed_route():
    table = build([deployed(revision=1), ApiUndeployed(api_id="api1", revision=1)])
    build([deployed(revision=1)], table)
    assert table.routes == {}
    build([deployed(revision=2)], table)
    assert table.routes["chat/1.0"].revision == 2


def test_undeploy_before_its_deploy_keeps_the_deploy_out():
    table = build([ApiUndeployed(api_id="api1", revision=2), deployed(revision=2)])
    assert table.routes == {}
    build([deployed(revision=1)], table)
    assert table.routes == {}
    build([deployed(revision=3)], table)
    assert table.routes["chat/1.0"].revision == 3


def test_undeploy_replays_are_idempotent_in_both_orders():
    deploy_then_undeploy = [
        deployed(revision=1),
        deployed(revision=2, key="sk-2"),
        ApiUndeployed(api_id="api1", revision=1),
        ApiUndeployed(api_id="api1", revision=2),
        deployed("api2", prefix="two/1"),
        ApiUndeployed(api_id="api2"),
    ]
    undeploy_then_deploy = [
        ApiUndeployed(api_id="api1", revision=1),
        deployed(revision=1),
        deployed(revision=2, key="sk-2"),
        ApiUndeployed(api_id="api2", revision=1),
        deployed("api2", prefix="two/1"),
    ]
    for events, routes in ((deploy_then_undeploy, set()), (undeploy_then_deploy, {"chat/1.0"})):
        once = build(events)
        twice = build(events, build(events))
        assert set(once.routes) == routes
        assert once.snapshot() == twice.snapshot()
        assert once.max_prefix_segments == twice.max_prefix_segments


def test_first_deploy_owns_the_prefix(caplog):
    table = build([deployed("a"), deployed("b", key="sk-b")])
    route = table.routes["chat/1.0"]
    assert route.api_id == "a"
    assert route.production.api_key == "sk-prod"
    assert any("served by API a" in r.getMessage() for r in caplog.records)
    assert "b" not in table.api_routes


def test_dropping_another_api_never_removes_the_owners_route():
    for gone in (ApiUndeployed(api_id="b"), ApiUndeployed(api_id="b", revision=1)):
        table = build([deployed("a"), deployed("b"), gone])
        assert table.routes["chat/1.0"].api_id == "a"
    table = build([deployed("a"), deployed("b", prefix="b/1"), deployed("b", revision=2)])
    assert table.routes["chat/1.0"].api_id == "a"
    assert table.routes["b/1"].api_id == "b"  # the refused revision leaves b where it was
    build([ApiDeleted(api_id="b")], table)
    assert set(table.routes) == {"chat/1.0"}
    assert table.routes["chat/1.0"].api_id == "a"


def test_a_dropped_owner_frees_the_prefix():
    table = build([deployed("a"), deployed("b"), ApiUndeployed(api_id="a")])
    assert table.routes == {}  # b was refused; it does not take over by itself
    build([deployed("b", revision=2)], table)
    assert table.routes["chat/1.0"].api_id == "b"
    table = build([deployed("a"), ApiDeleted(api_id="a"), deployed("c")])
    assert table.routes["chat/1.0"].api_id == "c"


def test_prefix_ownership_replays_to_the_same_table():
    events = [
        deployed("a"),
        deployed("b"),  # refused: a serves the prefix
        ApiUndeployed(api_id="a", revision=1),
        deployed("c", prefix="c/1"),
        deployed("c", revision=2),  # the prefix is free now: c moves there
    ]
    once = build(events)
    twice = build(events, build(events))
    assert once.routes["chat/1.0"].api_id == "c"
    assert set(once.routes) == {"chat/1.0"}
    assert once.snapshot() == twice.snapshot()


def test_keys_subscriptions_and_revocation():
    expiry = datetime.now(UTC) + timedelta(hours=1)
    table = build([issued(), issued("k2", "secret-2", expires_at=expiry), subscribed()])
    assert table.keys[sha256_hex("secret-1")].application_id == "app1"
    assert table.keys[sha256_hex("secret-2")].expires_at == expiry.timestamp()
    assert ("app1", "api1") in table.subscriptions
    table = build([KeyRevoked(key_id="k1"), issued()], table)  # a replayed issue stays revoked
    assert sha256_hex("secret-1") not in table.keys
    table = build(
        [SubscriptionDeleted(subscription_id="s1", application_id="app1", api_id="api1")], table
    )
    assert table.subscriptions == set()


def test_duplicate_subscription_pairs_survive_one_deletion():
    table = build([subscribed("s1"), subscribed("s2")])
    build([SubscriptionDeleted(subscription_id="s1", application_id="app1", api_id="api1")], table)
    assert ("app1", "api1") in table.subscriptions


def test_application_deleted_drops_its_keys_and_subscriptions():
    table = build([issued(), issued("k2", "other", app="app2"), subscribed()])
    build([ApplicationDeleted(application_id="app1")], table)
    assert list(table.keys) == [sha256_hex("other")]
    assert table.subscriptions == set()


def test_replaying_the_same_events_twice_gives_the_same_table():
    events = [
        deployed(revision=1),
        issued(),
        subscribed(),
        deployed("api2", revision=1, prefix="other/2"),
        issued("k2", "secret-2", key_type="SANDBOX"),
        deployed(revision=2, key="sk-2"),
        KeyRevoked(key_id="k2"),
        ApiUndeployed(api_id="api2"),
        issued("k3", "test-key", api_id="api1"),
        SubscriptionDeleted(subscription_id="s1", application_id="app1", api_id="api1"),
        subscribed("s9"),
    ]
    once = build(events)
    twice = build(events, build(events))
    assert once.snapshot() == twice.snapshot()
    assert set(once.routes) == {"chat/1.0"}
    assert once.routes["chat/1.0"].revision == 2
    assert set(once.keys) == {sha256_hex("secret-1"), sha256_hex("test-key")}
    assert once.subscriptions == {("app1", "api1")}
