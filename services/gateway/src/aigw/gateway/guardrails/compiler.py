"""An API's guardrails compiled into policies, once per revision (`proxy.route_policies`),
in their order. Types another package runs (SEMANTIC_PROMPT_GUARD, on embeddings) come as
`factories`; a configured type without one compiles to a policy that refuses every call
with 503 `guardrail_unavailable` (fail closed: a guardrail is never skipped)."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aigw.common.guardrails import (
    ContentLengthGuardrail,
    JsonSchemaGuardrail,
    PiiMaskingGuardrail,
    PromptDecorator,
    PromptTemplateGuardrail,
    RegexGuardrail,
    SentenceCountGuardrail,
    UrlGuardrail,
    WordCountGuardrail,
)
from aigw.gateway.client import PUBLIC_ONLY, AddressPolicy
from aigw.gateway.guardrails.checks import Check, CountCheck, JsonSchemaCheck, RegexCheck
from aigw.gateway.guardrails.intervene import unavailable
from aigw.gateway.guardrails.pii import PiiPolicy
from aigw.gateway.guardrails.policy import CheckPolicy, WatcherFactory
from aigw.gateway.guardrails.prompts import DecoratorPolicy, TemplatePolicy
from aigw.gateway.guardrails.stream import Buffered, DenyScanner, RequireScanner
from aigw.gateway.guardrails.text import Selector, selectors, wire_format
from aigw.gateway.guardrails.urls import Resolutions, UrlCheck
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import Policy, PolicyRun
from aigw.gateway.routing.table import Route

# A guardrail type run by another package: (the guardrail's config, its route) -> its policy.
GuardrailFactory = Callable[[Any, Route], Policy]
_COUNTS = {
    WordCountGuardrail: "words",
    SentenceCountGuardrail: "sentences",
    ContentLengthGuardrail: "bytes",
}


class GuardrailCompiler:
    def __init__(
        self,
        regex_timeout_ms: int = 100,
        holdback: int = 256,
        factories: Mapping[str, GuardrailFactory] | None = None,
        resolutions: Resolutions | None = None,
        addresses: AddressPolicy = PUBLIC_ONLY,
    ) -> None:
        self.regex_timeout_ms, self.holdback = regex_timeout_ms, holdback
        self.factories = dict(factories or {})
        self.resolutions = resolutions or Resolutions()
        self.addresses = addresses  # where URL_GUARDRAIL may connect (the providers' policy)

    def __call__(self, route: Route) -> Sequence[Policy]:
        return [self.compile(guardrail, route) for guardrail in route.guardrails]

    def compile(self, guardrail: Any, route: Route) -> Policy:
        factory = self.factories.get(guardrail.type)
        if factory is not None:
            return factory(guardrail, route)
        if isinstance(guardrail, PromptDecorator):
            return DecoratorPolicy(guardrail.name, guardrail.params, wire_format(route))
        if isinstance(guardrail, PromptTemplateGuardrail):
            request = selectors(route, None).request
            return TemplatePolicy.compile(guardrail.name, guardrail.params, request)
        if isinstance(guardrail, PiiMaskingGuardrail):
            params = guardrail.params
            chosen = selectors(route, params.json_path)
            limits = (self.regex_timeout_ms, self.holdback)
            return PiiPolicy.compile(guardrail.name, params, chosen, guardrail.flow, limits)
        check = self._check(guardrail)
        if check is None:
            return UnavailablePolicy(guardrail.name, guardrail.type)
        chosen = selectors(route, guardrail.params.json_path)
        return CheckPolicy(
            name=guardrail.name,
            check=check,
            selectors=chosen,
            on_requests=guardrail.flow in ("request", "both"),
            on_answers=guardrail.flow in ("response", "both"),
            show_assessment=guardrail.params.show_assessment,
            watcher=self._watcher(check, chosen.stream),
        )

    def _check(self, guardrail: Any) -> Check | None:
        params = guardrail.params
        if isinstance(guardrail, RegexGuardrail):
            return RegexCheck(params, self.regex_timeout_ms)
        unit = _COUNTS.get(type(guardrail))
        if unit is not None:
            return CountCheck(params, unit)
        if isinstance(guardrail, JsonSchemaGuardrail):
            return JsonSchemaCheck(params, self.regex_timeout_ms)
        if isinstance(guardrail, UrlGuardrail):
            return UrlCheck(params, self.resolutions, self.addresses)
        return None

    def _watcher(self, check: Check, selector: Selector) -> WatcherFactory:
        holdback = self.holdback
        if isinstance(check, RegexCheck):
            scanner = DenyScanner if check.invert else RequireScanner
            return lambda refuse: scanner(check, selector, holdback, refuse)
        return lambda refuse: Buffered(check, selector, refuse)


@dataclass(slots=True)  # not frozen: `Policy.name` is a plain attribute
class UnavailablePolicy:
    name: str
    kind: str

    def start(self, call: Invocation) -> PolicyRun | None:
        return _Unavailable(self)


class _Unavailable(PolicyRun):
    __slots__ = ("policy",)

    def __init__(self, policy: UnavailablePolicy) -> None:
        self.policy = policy

    async def on_request(self, call: Invocation) -> None:
        raise unavailable(self.policy.name, self.policy.kind)
