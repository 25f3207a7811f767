"""Schemathesis against each service's own OpenAPI document, on the real app and infra:
no 5xx, only documented status codes and content types, bodies that match their schema.

Bounded and reproducible: 25 examples per operation, derandomized (a fixed seed)."""

import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aigw.common.crypto import generate_master_key
from aigw.devportal.app import create_app as devportal_app
from aigw.devportal.settings import Settings as DevportalSettings
from aigw.gateway.app import create_app as gateway_app
from aigw.gateway.settings import Settings as GatewaySettings
from aigw.keymanager.app import create_app as keymanager_app
from aigw.keymanager.settings import Settings as KeymanagerSettings
from aigw.publisher.app import create_app as publisher_app
from aigw.publisher.settings import Settings as PublisherSettings
from tests.support.gateway import bearer
from tests.support.infra import Infra
from tests.support.keymanager import token_for
from tests.support.offline import offline_bus_settings
from tests.support.served import Served
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
KM_ADMIN_PASSWORD = "contract-admin-pw"


IDENTITIES = {"pub": "publisher", "dp": "devportal", "km": "keymanager", "gw": "gateway"}


def _common(infra: Infra, secret_key: str, service: str) -> dict[str, Any]:
    return {
        **infra.bus_settings(IDENTITIES[service]),
        "mongodb_url": infra.mongodb_url,
        "secret_key": secret_key,
        "mongodb_db": f"contract_{service}_{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture(scope="module")
def signer() -> TestSigner:
    return TestSigner()


@pytest.fixture(scope="module")
def publisher(infra: Infra, secret_key: str, signer: TestSigner, serve: Any) -> Served:
    settings_ = PublisherSettings(**_common(infra, secret_key, "pub"), dev_mode=True)
    url = serve(publisher_app(settings_, jwks_fetcher=signer.fetch_jwks))
    return Served(url, signer.auth("admin", ("admin",)))


@pytest.fixture(scope="module")
def devportal(infra: Infra, secret_key: str, keymanager: Served, serve: Any) -> Served:
    """Against the real keymanager (tokens, keys, sign-up), as deployed."""
    settings_ = DevportalSettings(**_common(infra, secret_key, "dp"), keymanager_url=keymanager.url)
    return Served(serve(devportal_app(settings_)), keymanager.headers)


@pytest.fixture(scope="module")
def keymanager(infra: Infra, secret_key: str, serve: Any) -> Served:
    common = _common(infra, secret_key, "km")
    url = serve(keymanager_app(KeymanagerSettings(**common, admin_password=KM_ADMIN_PASSWORD)))
    return Served(url, bearer(token_for(url, "admin", KM_ADMIN_PASSWORD)))


@pytest.fixture(scope="module")
def gateway(infra: Infra, secret_key: str, serve: Any) -> Served:
    common = _common(infra, secret_key, "gw")
    return Served(serve(gateway_app(GatewaySettings(**common))), {})


def _schema(app: Any) -> Any:
    """The OpenAPI document comes from the routes alone, so it is built at import time
    (pytest parametrizes at collection); the served app uses the real settings."""
    return schemathesis.openapi.from_dict(app.openapi())


_OFFLINE: dict[str, Any] = {
    "secret_key": generate_master_key(),
    "mongodb_db": "unused",
    **offline_bus_settings("publisher"),  # the apps are only built, never connected
}
publisher_api = _schema(publisher_app(PublisherSettings(**_OFFLINE)))
devportal_api = _schema(devportal_app(DevportalSettings(**_OFFLINE)))
keymanager_api = _schema(keymanager_app(KeymanagerSettings(**_OFFLINE, admin_password="x")))
gateway_api = _schema(gateway_app(GatewaySettings(**_OFFLINE)).management)


def _check(case: Any, served: Served) -> None:
    case.call_and_validate(base_url=served.url, headers=served.headers, checks=CHECKS)


@publisher_api.parametrize()
@BOUNDED
def test_publisher(case: Any, publisher: Served) -> None:
    _check(case, publisher)


@devportal_api.parametrize()
@BOUNDED
def test_devportal(case: Any, devportal: Served) -> None:
    _check(case, devportal)


@keymanager_api.parametrize()
@BOUNDED
def test_keymanager(case: Any, keymanager: Served) -> None:
    _check(case, keymanager)


@gateway_api.parametrize()
@BOUNDED
def test_gateway(case: Any, gateway: Served) -> None:
    _check(case, gateway)
