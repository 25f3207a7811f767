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

import logging

from cryptography.exceptions import InvalidTag

from aigw.common.crypto import SecretBox, provider_key_context
from aigw.common.events import (
    ApiDeleted,
    ApiDeployed,
    ApiUndeployed,
    ApplicationCreated,
    ApplicationDeleted,
    DeployedEndpoint,
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
from aigw.common.model_routing import RouteTarget, RoutingPolicy
from aigw.gateway.quota.plans import Plan
from aigw.gateway.routing import credentials
from aigw.gateway.routing.table import KeyEntry, Route, RoutingTable
from aigw.gateway.routing.targets import Target, TargetRouter
from aigw.gateway.routing.upstream import Upstream
from aigw.gateway.routing.vendor import VendorProfile

log = logging.getLogger(__name__)


def normalise_prefix(prefix: str) -> str:
    return "/".join(segment for segment in prefix.split("/") if segment)


def _upstream(
    box: SecretBox | None, api_id: str, name: str, endpoint: DeployedEndpoint | None
) -> Upstream | None:
    """The endpoint with its provider key decrypted (`name`: production, sandbox or an
    additional endpoint's name). The key opens only with the origin of the URL it is deployed
    with: a ciphertext sealed for another origin (a deploy pointing the endpoint elsewhere)
    fails, and the endpoint answers with `key_error` instead of sending the key there."""
    if endpoint is None:
        return None
    url = endpoint.url.rstrip("/")
    if endpoint.api_key_ciphertext is None:
        return Upstream(url)
    if box is None:
        return Upstream(url, key_error="the gateway has no secret key to decrypt provider keys")
    try:
        context = provider_key_context(api_id, name, url)  # ValueError for a URL without origin
        key = box.decrypt(endpoint.api_key_ciphertext, context)
    except (ValueError, InvalidTag) as exc:
        log.error("cannot decrypt the %s provider key of API %s: %s", name, api_id, type(exc))
        return Upstream(url, key_error="the provider key of this endpoint cannot be decrypted")
    return Upstream(url, api_key=key)


def _router(
    event: ApiDeployed, policy: RoutingPolicy | None, upstreams: dict[str, Upstream]
) -> TargetRouter | None:
    """The policy's runtime; targets on an endpoint the revision lacks are left out (the
    publisher refuses such policies, so this only guards against a hand-made event)."""
    if policy is None:
        return None

    def resolve(group: list[RouteTarget]) -> tuple[Target, ...]:
        found = []
        for target in group:
            upstream = upstreams.get(target.endpoint)
            if upstream is None:
                log.warning("API %s: no endpoint %r to route to", event.api_id, target.endpoint)
                continue
            found.append(Target(target.endpoint, upstream, target.model, target.weight))
        return tuple(found)

    targets = resolve(policy.targets)
    if not targets:
        return None
    return TargetRouter(
        targets, resolve(policy.fallbacks), policy.timeout_seconds, policy.suspend_seconds
    )


def _drop_route(table: RoutingTable, api_id: str) -> None:
    old = table.api_routes.pop(api_id, None)
    if old is not None and table.routes.get(old.route_prefix) is old:
        del table.routes[old.route_prefix]
        table.recount_segments()


def _deployed(table: RoutingTable, event: ApiDeployed, box: SecretBox | None) -> None:
    if event.api_id in table.deleted_apis:
        return
    seen = table.api_revisions.get(event.api_id, 0)
    if event.revision <= seen:
        return
    if seen and event.revision != seen + 1:
        # the publisher numbers an API's deploys one by one: a jump is a forged or replayed
        # event trying to pin the route (every later, real deploy would look old)
        log.warning(
            "refusing revision %d of API %s: the last one seen is %d, deploys move by one",
            event.revision,
            event.api_id,
            seen,
        )
        return
    table.api_revisions[event.api_id] = event.revision
    prefix = normalise_prefix(event.route_prefix)
    owner = table.routes.get(prefix)
    if owner is not None and owner.api_id != event.api_id:
        log.warning(
            "not routing revision %d of API %s: /%s is served by API %s (first deploy wins)",
            event.revision,
            event.api_id,
            prefix,
            owner.api_id,
        )
        return
    upstreams = {
        name: upstream
        for name, endpoint in (
            ("production", event.production),
            ("sandbox", event.sandbox),
            *event.endpoints.items(),
        )
        if (upstream := _upstream(box, event.api_id, name, endpoint)) is not None
    }
    route = Route(
        api_id=event.api_id,
        revision=event.revision,
        name=event.name,
        version=event.version,
        route_prefix=prefix,
        vendor=VendorProfile.compile(event.vendor),
        production=upstreams.get("production"),
        sandbox=upstreams.get("sandbox"),
        production_router=_router(event, event.routing.production, upstreams),
        sandbox_router=_router(event, event.routing.sandbox, upstreams),
        throttle_production=event.backend_throttle.production,
        throttle_sandbox=event.backend_throttle.sandbox,
    )
    _drop_route(table, event.api_id)
    table.api_routes[event.api_id] = route
    table.routes[route.route_prefix] = route
    table.recount_segments()


def _key_issued(table: RoutingTable, event: KeyIssued) -> None:
    if event.key_id in table.revoked_keys or event.application_id in table.deleted_applications:
        return
    old_hash = table.key_hashes.get(event.key_id)
    if old_hash is not None and old_hash != event.key_hash:
        table.keys.pop(old_hash, None)
    table.key_hashes[event.key_id] = event.key_hash
    table.keys[event.key_hash] = KeyEntry(
        key_id=event.key_id,
        application_id=event.application_id,
        key_type=event.key_type,
        api_id=event.api_id,
        expires_at=event.expires_at.timestamp() if event.expires_at else None,
    )


def _key_revoked(table: RoutingTable, key_id: str) -> None:
    table.revoked_keys.add(key_id)
    key_hash = table.key_hashes.pop(key_id, None)
    if key_hash is not None:
        table.keys.pop(key_hash, None)


def _subscribed(table: RoutingTable, event: SubscriptionCreated | SubscriptionUpdated) -> None:
    """Created or moved to another plan: the pair may call the API under `event.policy`."""
    if (
        event.subscription_id in table.deleted_subscriptions
        or event.application_id in table.deleted_applications
    ):
        return
    pair = (event.application_id, event.api_id)
    table.subscription_pairs[event.subscription_id] = pair
    table.subscriptions.add(pair)
    table.subscription_policies[pair] = event.policy


def _policy_updated(table: RoutingTable, event: PolicyUpdated) -> None:
    if event.deleted:
        table.plans.pop(event.name, None)
    else:
        table.plans[event.name] = Plan.from_event(event)


def _unsubscribed(table: RoutingTable, subscription_id: str, pair: tuple[str, str]) -> None:
    table.deleted_subscriptions.add(subscription_id)
    table.subscription_pairs.pop(subscription_id, None)
    if pair not in table.subscription_pairs.values():
        table.subscriptions.discard(pair)
        table.subscription_policies.pop(pair, None)


def _application_deleted(table: RoutingTable, application_id: str) -> None:
    table.deleted_applications.add(application_id)
    table.application_owners.pop(application_id, None)
    credentials.application_clients_revoked(table, application_id)
    for key_id in [k.key_id for k in table.keys.values() if k.application_id == application_id]:
        _key_revoked(table, key_id)
    for sub_id, pair in list(table.subscription_pairs.items()):
        if pair[0] == application_id:
            _unsubscribed(table, sub_id, pair)


def _undeployed(table: RoutingTable, event: ApiUndeployed) -> None:
    api_id = event.api_id
    seen = table.api_revisions.get(api_id, 0)
    if event.revision > seen:
        table.api_revisions[api_id] = event.revision
    route = table.api_routes.get(api_id)
    if route is not None and (event.revision == 0 or route.revision <= event.revision):
        _drop_route(table, api_id)


def _deleted(table: RoutingTable, api_id: str) -> None:
    table.deleted_apis.add(api_id)
    _drop_route(table, api_id)


def apply(table: RoutingTable, payload: EventPayload, box: SecretBox | None = None) -> None:
    """Apply one event payload; events the gateway does not route on are ignored."""
    match payload:
        case ApiDeployed():
            _deployed(table, payload, box)
        case ApiUndeployed():
            _undeployed(table, payload)
        case ApiDeleted():
            _deleted(table, payload.api_id)
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
            pair = (payload.application_id, payload.api_id)
            _unsubscribed(table, payload.subscription_id, pair)
        case ApplicationDeleted():
            _application_deleted(table, payload.application_id)
        case _:
            pass
