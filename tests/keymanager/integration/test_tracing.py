"""keymanager's server spans: a request with a `traceparent` (devportal's client span, say)
is a child in the caller's trace; a failed login is a span like any other, without the
password anywhere in it."""

from collections.abc import Iterator

import pytest

from aigw.devtools.otlp_collector import OtlpCollector
from aigw.keymanager.settings import Settings
from tests.support.infra import Infra
from tests.support.keymanager import API, km_settings, running
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b9c7c989f97918e1"


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    with OtlpCollector() as running_collector:
        yield running_collector


async def test_a_request_with_a_traceparent_is_a_server_span_in_that_trace(
    infra: Infra, secret_key: str, unique: str, collector: OtlpCollector
) -> None:
    settings: Settings = km_settings(infra, secret_key, f"km_{unique}").model_copy(
        update={"otlp_endpoint": collector.url}
    )
    caller = {"traceparent": f"00-{TRACE}-{PARENT}-01"}
    password = "not-the-password-" + unique
    async with running(settings) as client:
        response = await client.post(
            f"{API}/auth/login", json={"username": "admin", "password": password}, headers=caller
        )
    assert response.status_code == 401

    [span] = await eventually(lambda: collector.trace(TRACE), timeout=10)
    assert span.service == "aigw-keymanager"
    assert span.kind == 2
    assert span.parent_span_id == PARENT
    assert span.name == f"POST {API}/auth/login"
    assert span.attributes["http.response.status_code"] == 401
    assert password not in repr(span)
