"""The words of the access matrix's rules (tests/access/rules.py): the roles, how an
owner-scoped route treats someone else's resource, a route's key and its rule."""

from dataclasses import dataclass
from enum import Enum

ADMIN, PUBLISHER, SUBSCRIBER = "admin", "publisher", "subscriber"
EVERY_ROLE = frozenset({ADMIN, PUBLISHER, SUBSCRIBER})

PUB = "/api/publisher/v1"
DP = "/api/devportal/v1"
KM = "/api/keymanager/v1"
AUDIT = "/api/audit/v1"  # served by publisher

RouteKey = tuple[str, str, str]  # (service, method, path template)


class Owned(Enum):
    """How an owner-scoped route treats someone else's resource."""

    ITEM = "404"  # named by id (path or body): someone else's answers 404, not 403
    LIST = "hidden"  # a collection: someone else's is simply not in it


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = frozenset()  # empty: public, no management token needed
    owned: Owned | None = None
    admin_sees_all: bool = False  # an admin lists and changes anyone's (credentials, APIs)
    rival: str = SUBSCRIBER  # the role of the someone else who tries the owner's resource
    signed: bool = False  # only on devportal's service signature (aigw.common.service_auth)
    client_auth: bool = False  # OAuth2 client authentication (HTTP Basic), not a user token

    @property
    def public(self) -> bool:
        return not self.roles


def pub(method: str, path: str) -> RouteKey:
    return ("publisher", method, PUB + path)


def dp(method: str, path: str) -> RouteKey:
    return ("devportal", method, DP + path)


def km(method: str, path: str) -> RouteKey:
    return ("keymanager", method, KM + path)


def audit(method: str, path: str) -> RouteKey:
    return ("publisher", method, AUDIT + path)
