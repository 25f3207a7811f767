from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.infra import Infra
from tests.support.nats_nodes import own_nats
from tests.support.publisher import Publisher, running_publisher
from tests.support.tokens import TestSigner


@pytest.fixture(scope="module")
def infra(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """The session's store and credentials, a NATS of the module's own (own_nats: each test's
    fresh publisher database folds the whole stream into its audit trail, in the background)."""
    with own_nats(infra, tmp_path_factory.mktemp("nats")) as own:
        yield own


@pytest.fixture
async def publisher(
    infra: Infra, secret_key: str, signer: TestSigner, unique: str
) -> AsyncIterator[Publisher]:
    """Publisher in dev mode, as `make run` starts it: local http endpoints are accepted."""
    async with running_publisher(infra, secret_key, signer, unique, dev_mode=True) as publisher:
        yield publisher


@pytest.fixture
async def production_publisher(
    infra: Infra, secret_key: str, signer: TestSigner, unique: str
) -> AsyncIterator[Publisher]:
    """Publisher outside dev mode (AIGW_DEV_MODE unset)."""
    async with running_publisher(infra, secret_key, signer, unique, dev_mode=False) as publisher:
        yield publisher
