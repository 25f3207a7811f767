"""Which policies a call goes through: the gateway's own (the Invoker's `policies`), then the
API's (guardrails, the response cache: data in the deployed revision, compiled here once per
revision by the compilers the app gives), then the built-ins, metering last, so that it reads
the provider's answer before any other policy changes it. Responses see them in reverse."""

from collections.abc import Callable, Sequence

from aigw.gateway.policies.base import Policy
from aigw.gateway.policies.metering import MeteringPolicy
from aigw.gateway.policies.stream_usage import StreamUsagePolicy
from aigw.gateway.routing.table import Route

BUILT_IN_POLICIES: tuple[Policy, ...] = (StreamUsagePolicy(), MeteringPolicy())

# A route's policies of one kind, in order: () when the route configures none of that kind.
PolicyCompiler = Callable[[Route], Sequence[Policy]]


class RoutePolicies:
    def __init__(self, first: Sequence[Policy] = (), compilers: Sequence[PolicyCompiler] = ()):
        self._first = tuple(first)
        self._plain = (*self._first, *BUILT_IN_POLICIES)
        self._compilers = tuple(compilers)
        # api id -> the route (one revision) its policies were compiled for, and them
        self._compiled: dict[str, tuple[Route, tuple[Policy, ...]]] = {}

    def for_route(self, route: Route) -> tuple[Policy, ...]:
        if not route.has_policies or not self._compilers:
            return self._plain
        known = self._compiled.get(route.api_id)
        if known is not None and known[0] is route:
            return known[1]
        own = [policy for compile_route in self._compilers for policy in compile_route(route)]
        policies = (*self._first, *own, *BUILT_IN_POLICIES)
        self._compiled[route.api_id] = (route, policies)
        return policies
