import uuid
from datetime import UTC, datetime


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def utcnow_ms() -> datetime:
    """Now, truncated to the millisecond precision MongoDB stores, so a response built from
    a new document matches a later read of it."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
