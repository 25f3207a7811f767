"""The FastAPI dependencies the publisher's routers share: who acts (admins write the
catalogue of plans and vendors; publishers and admins manage APIs and read the catalogue;
which APIs a publisher may manage, its own and co-owned ones, is the API service's business)
and the services the lifespan built."""

from typing import Annotated

from fastapi import Depends, Request

from aigw.common.actor import Actor
from aigw.common.auth import Principal, require_roles
from aigw.common.requests import CorrelationId
from aigw.publisher.apis.service import ApiService
from aigw.publisher.audit.service import AuditService
from aigw.publisher.policies.service import PolicyService
from aigw.publisher.vendors.service import VendorService

_require_publisher = require_roles("admin", "publisher")
_require_admin = require_roles("admin")
# the audit trail serves every signed-in user, each the part it may see
_require_signed_in = require_roles("admin", "publisher", "subscriber")


# A client-supplied correlation id ties the request's events together in the audit trail.
def _publisher(
    principal: Annotated[Principal, Depends(_require_publisher)], correlation_id: CorrelationId
) -> Actor:
    return Actor.of(principal, correlation_id)


def _admin(
    principal: Annotated[Principal, Depends(_require_admin)], correlation_id: CorrelationId
) -> Actor:
    return Actor.of(principal, correlation_id)


def _apis(request: Request) -> ApiService:
    service: ApiService = request.app.state.apis
    return service


def _policies(request: Request) -> PolicyService:
    service: PolicyService = request.app.state.policies
    return service


def _vendors(request: Request) -> VendorService:
    service: VendorService = request.app.state.vendors
    return service


def _audit(request: Request) -> AuditService:
    service: AuditService = request.app.state.audit
    return service


Reader = Annotated[Principal, Depends(_require_publisher)]
CurrentActor = Annotated[Actor, Depends(_publisher)]  # a publisher or an admin
AdminActor = Annotated[Actor, Depends(_admin)]
Apis = Annotated[ApiService, Depends(_apis)]
Policies = Annotated[PolicyService, Depends(_policies)]
Vendors = Annotated[VendorService, Depends(_vendors)]
SignedIn = Annotated[Principal, Depends(_require_signed_in)]  # any signed-in user
Audit = Annotated[AuditService, Depends(_audit)]
