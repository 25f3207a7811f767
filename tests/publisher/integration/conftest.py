from collections.abc import AsyncIterator

import pytest

from tests.support.infra import Infra
from tests.support.publisher import Publisher, running_publisher
from tests.support.tokens import TestSigner


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
