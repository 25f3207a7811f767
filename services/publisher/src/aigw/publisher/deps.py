"""The FastAPI dependencies the publisher's routers share: who may call (admins write the
catalogue of plans and vendors; publishers and admins manage APIs and read the catalogue;
which APIs a publisher may manage, its own and co-owned ones, is the API service's business)
and the services behind the routes."""

from typing import Annotated

from fastapi import Depends, Request

from aigw.common.auth import Principal, require_roles
from aigw.common.requests import CorrelationId
from aigw.publisher.apis.service import ApiService, Caller
from aigw.publisher.policies.service import PolicyService
from aigw.publisher.vendors.service import VendorService

_require_publisher = require_roles("admin", "publisher")
_require_admin = require_roles("admin")


def _caller(principal: Principal, correlation_id: str) -> Caller:
    # A client-supplied correlation id ties its events together in the audit trail.
    return Caller(
        subject=principal.subject,
        correlation_id=correlation_id,
        admin=principal.has_any("admin"),
    )


def _publisher(
    principal: Annotated[Principal, Depends(_require_publisher)], correlation_id: CorrelationId
) -> Caller:
    return _caller(principal, correlation_id)


def _admin(
    principal: Annotated[Principal, Depends(_require_admin)], correlation_id: CorrelationId
) -> Caller:
    return _caller(principal, correlation_id)


def _apis(request: Request) -> ApiService:
    service: ApiService = request.app.state.apis
    return service


def _policies(request: Request) -> PolicyService:
    service: PolicyService = request.app.state.policies
    return service


def _vendors(request: Request) -> VendorService:
    service: VendorService = request.app.state.vendors
    return service


Reader = Annotated[Principal, Depends(_require_publisher)]
Publisher = Annotated[Caller, Depends(_publisher)]
Admin = Annotated[Caller, Depends(_admin)]
Apis = Annotated[ApiService, Depends(_apis)]
Policies = Annotated[PolicyService, Depends(_policies)]
Vendors = Annotated[VendorService, Depends(_vendors)]
