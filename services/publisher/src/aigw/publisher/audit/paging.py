"""The audit trail's cursor: opaque to clients, it names the stream position of the last event
a page held, so the next page starts right after it however many events arrived meanwhile."""

import base64
import binascii

from aigw.common.errors import InvalidInput

_PREFIX = "a1:"


def encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    """The sequence a cursor names; 422 for anything this service did not hand out."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("'cursor' is not a cursor this API gave out") from None
    number = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not number.isdigit() or len(number) > 19:
        raise InvalidInput("'cursor' is not a cursor this API gave out")
    return int(number)
