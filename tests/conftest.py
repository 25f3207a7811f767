import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aigw.common.crypto import generate_master_key
from tests.support.infra import Infra, running_infra
from tests.support.tokens import TestSigner


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """One real NATS server and one MongoDB-compatible store for the whole session."""
    with running_infra(Path(tmp_path_factory.mktemp("infra"))) as running:
        yield running


@pytest.fixture
def unique() -> str:
    """A short unique suffix: per-test database names keep tests independent."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def secret_key() -> str:
    return generate_master_key()


@pytest.fixture
def signer() -> TestSigner:
    return TestSigner()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps its own event loop on the main thread
    while the session's browser is open, and asyncio tests after it could not run theirs."""
    in_browser = ["/tests/e2e/browser/" in str(item.path) for item in items]
    items[:] = [i for i, b in zip(items, in_browser, strict=True) if not b] + [
        i for i, b in zip(items, in_browser, strict=True) if b
    ]
