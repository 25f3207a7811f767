import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aigw.common.crypto import generate_master_key
from aigw.devtools import nats_auth
from aigw.devtools.otlp_collector import OtlpCollector
from tests.support.infra import Infra, running_infra
from tests.support.nats_nodes import NatsNode, nats_node
from tests.support.tokens import TestSigner

# The embedded store on a loaded 2-core CI machine can take more than the 1 s default to
# answer server selection; a store that is up must not answer 503 here. Every service the
# tests start, in process or as a process, reads it; test_store_outage.py sets 1 s back.
os.environ.setdefault("MONGODB_TIMEOUT_MS", "10000")


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


@pytest.fixture
async def node(infra: Infra, tmp_path: Path) -> AsyncIterator[NatsNode]:
    """A NATS node of the test's own (to stop, kill -9 and start again), its streams
    provisioned: the outage tests' NATS."""
    with nats_node(infra, tmp_path) as running:
        await nats_auth.provision_streams(running.url, infra.credentials)
        yield running


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    """The dev OTLP collector, in-process: the services' tracing tests export to it."""
    with OtlpCollector() as running:
        yield running


# Fixtures that start real infrastructure: the session's NATS and store (every service, stack
# and process fixture builds on `infra`), or a whole platform of its own (`secure_stack`).
INFRASTRUCTURE = frozenset({"infra", "secure_stack"})
PROCESSES = frozenset({"stack", "secure_stack"})  # the services as separate processes


def _unmarked(items: list[pytest.Item]) -> list[str]:
    """Tests that use real infrastructure without its marker: `integration` for all of them,
    and `e2e` as well for those on the services' processes."""
    problems = []
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if uses & INFRASTRUCTURE and item.get_closest_marker("integration") is None:
            problems.append(f"{item.nodeid}: not marked integration")
        if uses & PROCESSES and item.get_closest_marker("e2e") is None:
            problems.append(f"{item.nodeid}: not marked e2e")
    return problems


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test on real infrastructure carries its marker (`-m "not integration"` is the unit
    tier), or the run stops here. Browser tests last: Playwright's sync API keeps its own event
    loop on the main thread while the session's browser is open, and asyncio tests after it
    could not run theirs."""
    if problems := _unmarked(items):
        raise pytest.UsageError("tests without their marker:\n  " + "\n  ".join(problems))
    in_browser = ["/tests/e2e/browser/" in str(item.path) for item in items]
    items[:] = [i for i, b in zip(items, in_browser, strict=True) if not b] + [
        i for i, b in zip(items, in_browser, strict=True) if b
    ]
