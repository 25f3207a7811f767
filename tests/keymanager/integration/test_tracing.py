"""keymanager's server spans: a request with a `traceparent` (devportal's client span, say)
is a child in the caller's trace; a failed login is a span like any other, without the
password anywhere in it."""

import pytest

from aigw.devtools.otlp_collector import OtlpCollector
from aigw.keymanager.settings import Settings
from tests.support.infra import Infra
from tests.support.keymanager import API, km_settings, running
from tests.support.tracing import CALLER_SPAN, CALLER_TRACE, SERVER, from_caller, spans_of_trace

pytestmark = pytest.mark.integration


async def test_a_request_with_a_traceparent_is_a_server_span_in_that_trace(
    infra: Infra, secret_key: str, unique: str, collector: OtlpCollector
) -> None:
    settings: Settings = km_settings(infra, secret_key, f"km_{unique}").model_copy(
        update={"otlp_endpoint": collector.url}
    )
    caller = from_caller()
    password = "not-the-password-" + unique
    async with running(settings) as client:
        response = await client.post(
            f"{API}/auth/login", json={"username": "admin", "password": password}, headers=caller
        )
    assert response.status_code == 401

    [span] = await spans_of_trace(collector, CALLER_TRACE)
    assert span.service == "aigw-keymanager"
    assert span.kind == SERVER
    assert span.parent_span_id == CALLER_SPAN
    assert span.name == f"POST {API}/auth/login"
    assert span.attributes["http.response.status_code"] == 401
    assert password not in repr(span)
