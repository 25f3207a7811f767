"""The four services as separate processes, over the session's real NATS and store."""

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aigw.devtools.stack import Ports, Stack, StackConfig
from tests.support.infra import Infra
from tests.support.keymanager import token_for
from tests.support.portal import ADMIN_PASSWORD, UPSTREAM_TIMEOUT_SECONDS, Portal
from tests.support.waiting import eventually_sync


@pytest.fixture(scope="session")
def stack(
    infra: Infra, secret_key: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    config = StackConfig(
        data_dir=Path(tmp_path_factory.mktemp("stack")),
        secret_key=secret_key,
        admin_password=ADMIN_PASSWORD,
        ports=Ports.free(),
        nats_url=infra.nats_url,
        credentials_dir=infra.credentials,
        mongodb_url=infra.mongodb_url,
        db_prefix=f"e2e_{uuid.uuid4().hex[:8]}",
        # the session's NATS: a shared snapshot there would change how every later gateway of
        # the session starts (tests/devtools/test_stack_snapshotter.py runs the stack's own)
        snapshotter=False,
        extra_env={
            "GATEWAY_UPSTREAM_TIMEOUT": str(UPSTREAM_TIMEOUT_SECONDS),
            # the mock provider's per-request controls, which the walkthrough tests use
            "GATEWAY_FORWARD_HEADERS": "x-mock-latency-ms,x-mock-chunk-delay-ms",
            # every test signs in from 127.0.0.1: wrong-password tests across the session must
            # not exhaust the per-address budget (the (user, address) lock stays at 5)
            "KEYMANAGER_LOGIN_SOURCE_MAX_FAILURES": "1000",
            # the test client is the proxy: a test that exhausts a per-address budget (the
            # sign-up 429) names its own address in X-Forwarded-For and starves no other test
            "AIGW_TRUSTED_PROXIES": "127.0.0.1",
        },
    )
    with Stack(config) as running:
        yield running


@pytest.fixture(scope="session")
def admin_token(stack: Stack) -> str:
    return token_for(stack.url("keymanager"), "admin", ADMIN_PASSWORD)


@pytest.fixture(scope="session")
def portal(stack: Stack, admin_token: str) -> Portal:
    return Portal(stack, admin_token)


@pytest.fixture(scope="session")
def mistral(portal: Portal) -> dict[str, Any]:
    """MistralAIAPI, secured, deployed, published, subscribed, with both key types."""
    context = f"mistralaiapi{uuid.uuid4().hex[:6]}"
    api = portal.create_api(context)
    portal.secure_deploy_publish(api["id"])
    app_id = portal.subscribed_app(api["id"])
    path = f"/{context}/0.0.2/v1/chat/completions"
    keys = {
        "PRODUCTION": portal.key(app_id, "PRODUCTION"),
        "SANDBOX": portal.key(app_id, "SANDBOX"),
    }
    eventually_sync(lambda: portal.chat(path, keys["PRODUCTION"]).status_code, 200)
    return {"api": api, "app_id": app_id, "path": path, "context": context, **keys}
