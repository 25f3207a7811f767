"""The APIs' routes in the routing table: deployed, undeployed and deleted (see
`routing.builder` for the ordering and idempotence rules they keep)."""

import logging

from cryptography.exceptions import InvalidTag

from aigw.common.crypto import SecretBox, provider_key_context
from aigw.common.events import ApiDeployed, ApiUndeployed, DeployedEndpoint
from aigw.common.model_routing import RouteTarget, RoutingPolicy
from aigw.gateway.routing.table import Route, RoutingTable
from aigw.gateway.routing.targets import Target, TargetPolicy
from aigw.gateway.routing.upstream import Upstream

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


def _routing(
    event: ApiDeployed, policy: RoutingPolicy | None, upstreams: dict[str, Upstream]
) -> TargetPolicy | None:
    """The policy resolved against the revision's endpoints; targets on an endpoint the revision lacks are left out (the
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
    return TargetPolicy(
        targets, resolve(policy.fallbacks), policy.timeout_seconds, policy.suspend_seconds
    )


def _drop_route(table: RoutingTable, api_id: str) -> None:
    old = table.api_routes.pop(api_id, None)
    if old is not None:
        table.remove_route(old)  # only if it still holds its prefix


def deployed(table: RoutingTable, event: ApiDeployed, box: SecretBox | None) -> None:
    if not _next_revision(table, event):
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
    route = _route(table, event, prefix, box)
    _drop_route(table, event.api_id)
    table.api_routes[event.api_id] = route
    table.add_route(route)


def _next_revision(table: RoutingTable, event: ApiDeployed) -> bool:
    """Whether `event` is the API's next revision (see `routing.builder`)."""
    if event.api_id in table.deleted_apis:
        return False
    seen = table.api_revisions.get(event.api_id, 0)
    if event.revision <= seen:
        return False
    if seen and event.revision != seen + 1:
        # the publisher numbers an API's deploys one by one: a jump is a forged or replayed
        # event trying to pin the route (every later, real deploy would look old)
        log.warning(
            "refusing revision %d of API %s: the last one seen is %d, deploys move by one",
            event.revision,
            event.api_id,
            seen,
        )
        return False
    return True


def _route(table: RoutingTable, event: ApiDeployed, prefix: str, box: SecretBox | None) -> Route:
    upstreams = {
        name: upstream
        for name, endpoint in (
            ("production", event.production),
            ("sandbox", event.sandbox),
            *event.endpoints.items(),
        )
        if (upstream := _upstream(box, event.api_id, name, endpoint)) is not None
    }
    return Route(
        api_id=event.api_id,
        revision=event.revision,
        name=event.name,
        version=event.version,
        route_prefix=prefix,
        vendor=table.vendor_profiles.of(event.vendor),
        production=upstreams.get("production"),
        sandbox=upstreams.get("sandbox"),
        production_routing=_routing(event, event.routing.production, upstreams),
        sandbox_routing=_routing(event, event.routing.sandbox, upstreams),
        throttle_production=event.backend_throttle.production,
        throttle_sandbox=event.backend_throttle.sandbox,
        guardrails=tuple(event.guardrails),
        cache=event.cache,
    )


def undeployed(table: RoutingTable, event: ApiUndeployed) -> None:
    api_id = event.api_id
    seen = table.api_revisions.get(api_id, 0)
    if event.revision > seen:
        table.api_revisions[api_id] = event.revision
    route = table.api_routes.get(api_id)
    if route is not None and (event.revision == 0 or route.revision <= event.revision):
        _drop_route(table, api_id)


def deleted(table: RoutingTable, api_id: str) -> None:
    table.deleted_apis.add(api_id)
    _drop_route(table, api_id)
