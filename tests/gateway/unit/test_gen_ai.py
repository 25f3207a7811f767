"""The GenAI semantic-convention names a call's span gets (aigw.gateway.proxy.gen_ai)."""

import pytest

from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.request import RequestFacts
from aigw.gateway.proxy import gen_ai
from aigw.gateway.proxy.tracing import server_of


@pytest.mark.parametrize(
    ("rest", "operation"),
    [
        ("/v1/chat/completions", "chat"),
        ("/chat/completions?api-version=2024-06-01", "chat"),
        ("/v1/messages", "chat"),
        ("/v1/responses", "chat"),
        ("/v1/completions", "text_completion"),
        ("/v1/embeddings", "embeddings"),
        ("/v1/models", "models"),
        ("", "unknown"),
    ],
)
def test_the_operation_is_named_from_the_provider_path(rest: str, operation: str) -> None:
    assert gen_ai.operation(rest) == operation


@pytest.mark.parametrize(
    ("vendor", "provider"),
    [
        ("OpenAI", "openai"),
        ("MistralAI", "mistral_ai"),
        ("AzureOpenAI", "azure.ai.openai"),
        ("Anthropic", "anthropic"),
        ("OurModels", "ourmodels"),
    ],
)
def test_built_in_vendors_have_the_conventions_provider_names(vendor: str, provider: str) -> None:
    assert gen_ai.provider(vendor) == provider


def test_an_unmatched_call_has_only_its_http_attributes() -> None:
    call = Invocation(0.0, "POST", "")
    call.status = 404
    assert gen_ai.attributes(call, None) == {
        "http.request.method": "POST",
        "http.response.status_code": 404,
    }
    assert gen_ai.span_name(call) == "unknown"
    assert gen_ai.error_type(call) == "404"
    call.facts = RequestFacts(model="m")
    assert gen_ai.span_name(call) == "unknown m"


def test_attempt_errors_name_the_status_or_the_failure() -> None:
    assert gen_ai.attempt_error(TimeoutError()) == "timeout"
    assert gen_ai.attempt_error(ValueError("503")) == "503"
    assert gen_ai.attempt_error(ConnectionResetError("reset")) == "ConnectionResetError"


@pytest.mark.parametrize(
    ("scheme", "authority", "server"),
    [
        ("http", "127.0.0.1:8090", ("127.0.0.1", 8090)),
        ("https", "api.openai.com", ("api.openai.com", 443)),
        ("http", "models.internal", ("models.internal", 80)),
        ("https", "[::1]:8443", ("::1", 8443)),
        ("https", "[::1]", ("::1", 443)),
    ],
)
def test_the_attempt_span_names_the_providers_address_and_port(
    scheme: str, authority: str, server: tuple[str, int]
) -> None:
    assert server_of(scheme, authority) == server
