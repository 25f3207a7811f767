"""The response cache shared by every gateway (`aigw.common.response_cache` says what it does)."""
