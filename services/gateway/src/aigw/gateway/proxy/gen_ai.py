"""A call's attributes in the OpenTelemetry GenAI semantic conventions
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/), from its settled
`Invocation`: what was asked (operation, provider, requested model), what answered (response
model, token usage) and how it ended (status, `error.type`).

`gen_ai.provider.name` is the conventions' current name and `gen_ai.system` its older one;
both are set so that backends on either version group the calls. The gateway's own facts
(API, application, key type, cache and guardrail outcomes) are `aigw.*` attributes.
"""

from aigw.common.tracing.spans import Attributes
from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.meter import Usage

# the conventions' well-known provider names for the built-in vendors; a custom vendor's own
# name (lower case) otherwise
PROVIDERS = {
    "OpenAI": "openai",
    "MistralAI": "mistral_ai",
    "AzureOpenAI": "azure.ai.openai",
    "Anthropic": "anthropic",
}
# the provider path's ending -> gen_ai.operation.name
OPERATIONS = (
    ("/chat/completions", "chat"),
    ("/messages", "chat"),  # Anthropic
    ("/responses", "chat"),  # OpenAI's Responses API
    ("/completions", "text_completion"),
    ("/embeddings", "embeddings"),
)


_NAMED: dict[str, str] = {}  # provider path -> operation: an API's few paths, named once
_NAMED_MAX = 4096  # paths with ids in them (/v1/files/<id>) would grow it: then it starts over


def operation(rest: str) -> str:
    named = _NAMED.get(rest)
    if named is None:
        if len(_NAMED) >= _NAMED_MAX:
            _NAMED.clear()
        named = _NAMED[rest] = _operation(rest)
    return named


def _operation(rest: str) -> str:
    path = rest.split("?", 1)[0].rstrip("/")
    for ending, name in OPERATIONS:
        if path.endswith(ending):
            return name
    return path.rsplit("/", 1)[-1] or "unknown"  # a vendor's other operation, by its name


def provider(vendor: str) -> str:
    return PROVIDERS.get(vendor) or vendor.lower()


def span_name(call: Invocation, model: str | None = None) -> str:
    """`{gen_ai.operation.name} {gen_ai.request.model}`, as the conventions name a span."""
    operation_name = operation(call.rest) if call.route is not None else "unknown"
    model = model or call.facts.model
    return f"{operation_name} {model}" if model else operation_name


def attributes(call: Invocation, usage: Usage | None) -> Attributes:
    """The call's attributes once settled (`usage`: the final counts, None if none)."""
    found: Attributes = {
        "http.request.method": call.method,
        "http.response.status_code": call.status,
    }
    route = call.route
    if route is None:
        return found
    vendor = provider(route.vendor.name)
    found |= {
        "gen_ai.operation.name": operation(call.rest),
        "gen_ai.provider.name": vendor,
        "gen_ai.system": vendor,
        "aigw.api.id": route.api_id,
        "aigw.api": call.label,  # name:version, as the metrics label it
        "aigw.stream": call.facts.stream,
    }
    facts = call.facts
    if facts.model:
        found["gen_ai.request.model"] = facts.model
    if facts.max_completion_tokens is not None:
        found["gen_ai.request.max_tokens"] = facts.max_completion_tokens
    if call.request_id:  # the x-request-id of its answer, usage record and access log line
        found["aigw.request.id"] = call.request_id
    if call.entry is not None:
        found["aigw.application.id"] = call.entry.application_id
        found["aigw.key_type"] = call.entry.key_type
    if usage is not None and usage.served_model:
        found["gen_ai.response.model"] = usage.served_model
    if usage is not None and (usage.reported or usage.estimated):
        found["gen_ai.usage.input_tokens"] = usage.prompt_tokens
        found["gen_ai.usage.output_tokens"] = usage.completion_tokens
        if usage.estimated:
            found["aigw.usage.estimated"] = True
    if call.cache is not None:
        found["aigw.cache"] = call.cache
    if call.intervention is not None:
        found["aigw.guardrail"] = call.intervention.guardrail
        found["aigw.guardrail.direction"] = call.intervention.direction
    return found


def error_type(call: Invocation) -> str | None:
    """`error.type` for a call that failed: the status the caller got (499: it left)."""
    if call.client_gone:
        return "client_closed"
    return str(call.status) if call.status >= 400 else None


def attempt_error(exc: Exception) -> str:
    """`error.type` of an attempt that failed: a status (a routed target's 429/5xx),
    `timeout`, or the connection error's class."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    text = str(exc)
    return text if text.isdigit() else type(exc).__qualname__
