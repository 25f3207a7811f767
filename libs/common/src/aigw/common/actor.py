"""Who acted: the one type every management service passes from an endpoint to its use cases,
so each event it emits carries the acting subject and the request's correlation id (the audit
trail joins a request's events across services by that id)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Self

from fastapi import Depends

from aigw.common.auth import Principal, current_principal, require_roles
from aigw.common.events import Envelope, EventPayload, new_event
from aigw.common.requests import CorrelationId


@dataclass(frozen=True, slots=True)
class Actor:
    """`subject` is the caller's token subject (a username, an OAuth client id, or a service
    identity such as `publisher` for work a service does on its own); `admin` says whether the
    caller holds the admin role, for use cases whose rules differ for admins."""

    subject: str
    correlation_id: str | None = None
    admin: bool = False

    @classmethod
    def of(cls, principal: Principal, correlation_id: str | None) -> Self:
        """The actor behind a verified token, for one request's correlation id."""
        return cls(principal.subject, correlation_id, admin=principal.has_any("admin"))

    def event(self, payload: EventPayload, source: str) -> Envelope:
        """The envelope of `payload` as emitted by `source` on this actor's behalf."""
        return new_event(
            payload, source=source, actor=self.subject, correlation_id=self.correlation_id
        )


def acting_caller(*roles: str) -> Callable[[Principal, str], Actor]:
    """A dependency: the verified caller as the `Actor` of this request (its correlation id,
    which ties the request's events together in the audit trail); 403 unless the caller
    holds one of `roles`, any signed-in caller when none are named."""
    allowed = require_roles(*roles) if roles else current_principal

    def actor(
        principal: Annotated[Principal, Depends(allowed)], correlation_id: CorrelationId
    ) -> Actor:
        return Actor.of(principal, correlation_id)

    return actor
