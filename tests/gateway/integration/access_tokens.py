"""Moved to tests/support/access_tokens.py; kept only for tests/gateway/unit's import (the
lead's area), to be deleted once it imports tests.support.access_tokens."""

from tests.support.access_tokens import AccessTokenSigner, tampered

__all__ = ["AccessTokenSigner", "tampered"]
