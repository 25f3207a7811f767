"""The whole platform as processes, on its own NATS and store (so the scan sees only what
this walkthrough produced), with every secret it uses random and known to the test."""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.common.crypto import generate_master_key
from aigw.devtools.stack import Ports, Stack, StackConfig
from tests.support.secrets_scan import StackSecrets


@pytest.fixture(scope="session")
def stack_secrets() -> StackSecrets:
    token = secrets.token_urlsafe
    return StackSecrets(
        AIGW_SECRET_KEY=generate_master_key(),
        admin_password=f"admin-{token(12)}",
        production_provider_key=f"prov-prod-{token(16)}",
        sandbox_provider_key=f"prov-sbx-{token(16)}",
    )


@pytest.fixture(scope="session")
def secure_stack(
    stack_secrets: StackSecrets, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    config = StackConfig(
        data_dir=Path(tmp_path_factory.mktemp("secure-stack")),
        secret_key=stack_secrets["AIGW_SECRET_KEY"],
        admin_password=stack_secrets["admin_password"],
        ports=Ports.free(),
        persist_store=False,
        # unbuffered, so every line a service wrote is in its log file when the scan reads it
        # SNAPSHOTTER_INTERVAL: the shared snapshot soon holds the walkthrough's events, and
        # the scan reads it too
        extra_env={"PYTHONUNBUFFERED": "1", "SNAPSHOTTER_INTERVAL": "0.5"},
        db_prefix="scan",
        mock_provider_keys=(
            f"{stack_secrets['production_provider_key']},{stack_secrets['sandbox_provider_key']}"
        ),
    )
    with Stack(config) as running:
        yield running
