"""The business plans, for the portal's subscribe dialog (any signed-in user may read them)."""

from fastapi import APIRouter

from aigw.common.auth import CurrentPrincipal
from aigw.devportal.deps import Db
from aigw.devportal.policies import store
from aigw.devportal.policies.models import Plan
from aigw.devportal.schemas import Collection

router = APIRouter(prefix="/subscription-policies", tags=["subscription policies"])


@router.get("", summary="Business plans (subscription policies)")
async def list_policies(_: CurrentPrincipal, db: Db) -> Collection[Plan]:
    return Collection.of([Plan.from_doc(doc) for doc in await store.list_live(db)])
