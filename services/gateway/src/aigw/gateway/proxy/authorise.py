"""Whether the authenticated key may call the route, and which endpoints it calls.

A test key is bound to one API and needs no subscription; any other key's application must be
subscribed to the API. A PRODUCTION key calls the production side and a SANDBOX key the sandbox
side: its routing policy if the revision has one for that key type, else its endpoint.
"""

from aigw.gateway.errors import Refused
from aigw.gateway.invocation import Invocation
from aigw.gateway.proxy.authenticate import AccessDenied
from aigw.gateway.routing.table import KeyEntry, Route, RoutingTable


def authorise(table: RoutingTable, entry: KeyEntry, route: Route) -> None:
    """AccessDenied (403) unless `entry` may call `route`."""
    if entry.api_id is not None:
        if entry.api_id != route.api_id:
            raise AccessDenied(403, "This key is not valid for this API.", "key_not_allowed")
        return  # a test key for this very API needs no subscription
    if (entry.application_id, route.api_id) not in table.subscriptions:
        raise AccessDenied(403, "The application is not subscribed to this API.", "not_subscribed")


def choose_endpoints(call: Invocation) -> None:
    """Note the key type's routing policy, or its endpoint if it has one with a usable
    provider key (else 404 or 503)."""
    route, entry = call.route, call.entry
    assert route is not None
    assert entry is not None
    key_type = entry.key_type
    call.routing = route.routing_for(key_type)
    if call.routing is not None:
        return
    upstream = route.upstream_for(key_type)
    if upstream is None:
        raise Refused(
            404,
            f"This API has no {key_type.lower()} endpoint; a {key_type} key cannot call it.",
            "endpoint_not_configured",
        )
    if upstream.key_error is not None:
        raise Refused(503, upstream.key_error, "provider_key_unavailable")
    call.upstream = upstream
