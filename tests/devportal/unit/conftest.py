import pytest

from aigw.common.actor import Actor
from tests.support.devportal_memory import MemoryDevportal, StoodInKeymanager


@pytest.fixture
def portal() -> MemoryDevportal:
    return MemoryDevportal()


@pytest.fixture
def alice() -> Actor:
    return Actor("alice", "corr-alice")


@pytest.fixture
def bob() -> Actor:
    return Actor("bob", "corr-bob")


@pytest.fixture
def keymanager() -> StoodInKeymanager:
    return StoodInKeymanager()
