"""Moved to tests/support/keymanager.py; kept only for tests/devportal's imports (another
helper's area), to be deleted once they import tests.support.keymanager."""

from tests.support.keymanager import API, km_settings

__all__ = ["API", "km_settings"]
