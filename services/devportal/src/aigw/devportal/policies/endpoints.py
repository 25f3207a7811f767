"""The business plans, for the portal's subscribe dialog (any signed-in user may read them)."""

from fastapi import APIRouter

from aigw.common.auth import CurrentPrincipal
from aigw.common.schemas import Collection
from aigw.devportal.deps import Policies
from aigw.devportal.policies.schemas import Plan

router = APIRouter(prefix="/subscription-policies", tags=["subscription policies"])


@router.get("", summary="Business plans (subscription policies)")
async def list_policies(_: CurrentPrincipal, policies: Policies) -> Collection[Plan]:
    return Collection.of(await policies.list_plans())
