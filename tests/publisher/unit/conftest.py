import pytest

from tests.support.publisher_memory import MemoryPublisher


@pytest.fixture
async def publisher() -> MemoryPublisher:
    """The publisher's services over in-memory documents, outside dev mode, started."""
    return await MemoryPublisher().start()
