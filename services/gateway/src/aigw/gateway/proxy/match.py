"""Which deployed API a request is for, and whether its definition has that operation.

Only the operations of the API's vendor definition are forwarded: an unknown path is the
gateway's 404, a method the path does not take 405 (with `Allow`). Nothing else reaches the
provider.
"""

from aigw.gateway.asgi import Scope
from aigw.gateway.errors import Refused
from aigw.gateway.invocation import Invocation
from aigw.gateway.proxy.paths import match_route, path_problem, rest_after
from aigw.gateway.routing.table import Route, RoutingTable


def match(table: RoutingTable, call: Invocation, scope: Scope) -> Route:
    """The route for the request path (400 for a path the gateway refuses, 404 for none);
    notes the route and the provider path (still percent-encoded if the caller encoded it)."""
    path: str = scope["path"]
    raw_path: bytes = scope.get("raw_path") or path.encode()
    problem = path_problem(path, raw_path)
    if problem is not None:
        raise Refused(400, problem, "invalid_path")
    route, segments = match_route(table.routes, table.max_prefix_segments, path)
    if route is None:
        raise Refused(404, f"No API is deployed at {path}.", "not_found")
    call.route, call.api, call.label = route, route.api_id, route.label
    if b"%" in raw_path:
        call.rest = rest_after(raw_path.decode("latin-1"), segments)
    else:
        call.rest = path[len(route.route_prefix) + 1 :]
    return route


def check_operation(route: Route, scope: Scope) -> None:
    """Refuse a call the API's definition does not list (404, or 405 with `Allow`)."""
    path: str = scope["path"][len(route.route_prefix) + 1 :]
    methods = route.vendor.operations.methods(path)
    method: str = scope["method"]
    if methods is not None and method in methods:
        return
    shown = path if len(path) <= 200 else path[:200] + "..."
    if methods is None:
        raise Refused(
            404,
            f"This API has no operation at '{shown}': the gateway forwards only the operations "
            "of the API's definition.",
            "unknown_operation",
        )
    allow = ", ".join(sorted(methods))
    raise Refused(
        405,
        f"'{shown}' does not take {method}; it takes {allow}.",
        "method_not_allowed",
        [(b"allow", allow.encode())],
    )
