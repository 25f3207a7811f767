"""Moved to tests/support/usage.py; kept only for tests/devportal's imports (another helper's
area), to be deleted once they import tests.support.usage."""

from tests.support.usage import batch, publish_batch, record

__all__ = ["batch", "publish_batch", "record"]
