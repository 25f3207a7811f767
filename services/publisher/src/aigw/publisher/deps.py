"""The FastAPI dependencies the publisher's routers share: who acts (admins write the
catalogue of plans and vendors; publishers and admins manage APIs and read the catalogue;
which APIs a publisher may manage, its own and co-owned ones, is the API service's business)
and the services the lifespan built."""

from typing import Annotated

from fastapi import Depends

from aigw.common.actor import Actor, acting_caller
from aigw.common.auth import Principal, require_roles
from aigw.common.idempotency import IdempotencyStore
from aigw.common.requests import from_state
from aigw.publisher.apis.service import ApiService
from aigw.publisher.audit.service import AuditService
from aigw.publisher.policies.service import PolicyService
from aigw.publisher.usage.service import UsageService
from aigw.publisher.vendors.service import VendorService

PUBLISHER_ROLES = ("admin", "publisher")

Reader = Annotated[Principal, Depends(require_roles(*PUBLISHER_ROLES))]
CurrentActor = Annotated[Actor, Depends(acting_caller(*PUBLISHER_ROLES))]
AdminActor = Annotated[Actor, Depends(acting_caller("admin"))]
Apis = Annotated[ApiService, Depends(from_state("apis", ApiService))]
Policies = Annotated[PolicyService, Depends(from_state("policies", PolicyService))]
Vendors = Annotated[VendorService, Depends(from_state("vendors", VendorService))]
IdempotencyKeys = Annotated[IdempotencyStore, Depends(from_state("idempotency", IdempotencyStore))]
Usage = Annotated[UsageService, Depends(from_state("usage", UsageService))]
# the audit trail serves every signed-in user, each the part it may see
SignedIn = Annotated[Principal, Depends(require_roles("admin", "publisher", "subscriber"))]
Audit = Annotated[AuditService, Depends(from_state("audit", AuditService))]
