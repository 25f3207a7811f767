"""Apply one event to the routing table: deterministic, no I/O, idempotent.

`apply(table, payload, box)` updates the table in place. It never awaits, so on the event loop
a request never sees a half-applied event, and each event costs O(1) instead of a copy of the
whole table. Idempotence and ordering:

- an `ApiDeployed` is applied only if its revision is the next one after every revision
  already seen for the API (deployed, refused or undeployed): later revisions win, a replayed
  or re-delivered deploy changes nothing, and a jump (revision raised by more than one) is
  refused, so no event can pin a route above the publisher's next real deploy. The first
  revision the gateway sees of an API may be any (an API deployed before it was undeployed
  and deleted, or the stream compacted, starts where it is);
- `ApiUndeployed` drops the API's route if the deployed revision is at or below the event's
  revision (revision 0, from older events: whatever is deployed), and raises the API's floor
  to that revision, so a re-delivered older deploy does not bring the route back;
- `ApiDeleted` drops the API's route; a deleted API never comes back;
- a route prefix belongs to the API that deployed it: a deploy of another API at a prefix that
  is still served is refused (first deploy wins, with a warning), and dropping that other API
  never removes the owner's route. Once the owner is dropped, the prefix is free;
- a revoked key, a deleted subscription or a deleted application stays gone even if an older
  event that created it is replayed again.

So replaying the same events twice gives the same table.
"""

from aigw.common.crypto import SecretBox
from aigw.common.events import (
    ApiDeleted,
    ApiDeployed,
    ApiUndeployed,
    ApplicationCreated,
    ApplicationDeleted,
    EventPayload,
    KeyIssued,
    KeyRegenerated,
    KeyRevoked,
    OAuthClientCreated,
    OAuthClientRevoked,
    PolicyUpdated,
    SigningKeyRotated,
    SubscriptionCreated,
    SubscriptionDeleted,
    SubscriptionUpdated,
    TokenRevoked,
)
from aigw.gateway.routing import credentials, deployments
from aigw.gateway.routing.plans import Plan
from aigw.gateway.routing.table import KeyEntry, RoutingTable


def _key_issued(table: RoutingTable, event: KeyIssued) -> None:
    if event.key_id in table.revoked_keys or event.application_id in table.deleted_applications:
        return
    old_hash = table.key_hashes.get(event.key_id)
    if old_hash is not None and old_hash != event.key_hash:
        table.pop_key(old_hash)
    table.key_hashes[event.key_id] = event.key_hash
    table.put_key(
        event.key_hash,
        KeyEntry(
            key_id=event.key_id,
            application_id=event.application_id,
            key_type=event.key_type,
            api_id=event.api_id,
            expires_at=event.expires_at.timestamp() if event.expires_at else None,
        ),
    )


def _key_revoked(table: RoutingTable, key_id: str) -> None:
    table.revoked_keys.add(key_id)
    key_hash = table.key_hashes.pop(key_id, None)
    if key_hash is not None:
        table.pop_key(key_hash)


def _subscribed(table: RoutingTable, event: SubscriptionCreated | SubscriptionUpdated) -> None:
    """Created or moved to another plan: the pair may call the API under `event.policy`."""
    if (
        event.subscription_id in table.deleted_subscriptions
        or event.application_id in table.deleted_applications
    ):
        return
    pair = (event.application_id, event.api_id)
    table.put_subscription(event.subscription_id, pair, event.policy)


def _policy_updated(table: RoutingTable, event: PolicyUpdated) -> None:
    if event.deleted:
        table.plans.pop(event.name, None)
    else:
        table.plans[event.name] = Plan.from_event(event)


def _unsubscribed(table: RoutingTable, subscription_id: str) -> None:
    table.deleted_subscriptions.add(subscription_id)
    table.pop_subscription(subscription_id)


def _application_deleted(table: RoutingTable, application_id: str) -> None:
    table.deleted_applications.add(application_id)
    table.application_owners.pop(application_id, None)
    credentials.application_clients_revoked(table, application_id)
    for key_hash in list(table.application_keys.get(application_id, ())):
        _key_revoked(table, table.keys[key_hash].key_id)
    for sub_id in list(table.application_subscriptions.get(application_id, ())):
        _unsubscribed(table, sub_id)


# the event types `apply` folds: the follower neither verifies nor parses any other (and the
# table's snapshot, routing.snapshot, keeps only these)
ROUTED_TYPES = frozenset(
    cls.TYPE
    for cls in (
        ApiDeployed,
        ApiUndeployed,
        ApiDeleted,
        KeyIssued,
        KeyRevoked,
        KeyRegenerated,
        SigningKeyRotated,
        OAuthClientCreated,
        OAuthClientRevoked,
        TokenRevoked,
        SubscriptionCreated,
        SubscriptionUpdated,
        PolicyUpdated,
        ApplicationCreated,
        SubscriptionDeleted,
        ApplicationDeleted,
    )
)


def apply(table: RoutingTable, payload: EventPayload, box: SecretBox | None = None) -> None:
    """Apply one event payload; events the gateway does not route on are ignored."""
    match payload:
        case ApiDeployed():
            deployments.deployed(table, payload, box)
        case ApiUndeployed():
            deployments.undeployed(table, payload)
        case ApiDeleted():
            deployments.deleted(table, payload.api_id)
        case KeyIssued():
            _key_issued(table, payload)
        case KeyRevoked():
            _key_revoked(table, payload.key_id)
        case KeyRegenerated():
            credentials.key_regenerated(table, payload)
        case SigningKeyRotated():
            credentials.signing_key_rotated(table, payload)
        case OAuthClientCreated():
            credentials.oauth_client_created(table, payload)
        case OAuthClientRevoked():
            credentials.oauth_client_revoked(table, payload.client_id)
        case TokenRevoked():
            credentials.token_revoked(table, payload)
        case SubscriptionCreated() | SubscriptionUpdated():
            _subscribed(table, payload)
        case PolicyUpdated():
            _policy_updated(table, payload)
        case ApplicationCreated():
            if payload.application_id not in table.deleted_applications:
                table.application_owners[payload.application_id] = payload.owner
        case SubscriptionDeleted():
            _unsubscribed(table, payload.subscription_id)
        case ApplicationDeleted():
            _application_deleted(table, payload.application_id)
        case _:
            pass
