"""The call's request id: the caller's `x-request-id` if it is a valid one, else a new one.

Every answer carries it back as `x-request-id`; the usage record and the access log carry it,
and the provider gets it (as `x-request-id`, or the header the vendor definition names in
`requestIdHeader`). A valid id is 1 to 128 characters of `A-Z a-z 0-9 . _ : -`: anything else
(spaces, quotes, CR/LF, an overlong value) is replaced, never echoed, so a caller cannot inject
headers or log lines through it. A new id is 16 random bytes in hex (no uuid: cheaper).
"""

import os
import re

from aigw.gateway.asgi import RawHeaders

HEADER = b"x-request-id"
# what the provider's own request id comes back to the caller as
PROVIDER_HEADER = b"x-provider-request-id"
_VALID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def new_request_id() -> bytes:
    return os.urandom(16).hex().encode()


def request_id(headers: RawHeaders) -> bytes:
    """The caller's valid `x-request-id` (the first one), else a new id."""
    for name, value in headers:
        if name == HEADER:
            return value if _VALID.fullmatch(value) else new_request_id()
    return new_request_id()
