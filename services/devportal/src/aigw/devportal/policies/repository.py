"""The `policies` collection: devportal's copy of the business plans, built only from
aigw.policy.updated events (policies.projection) with the read models' newer-event guard
(aigw.devportal.projection)."""

from collections.abc import Mapping
from typing import Any, TypedDict

from aigw.common.events import QuotaUnit
from aigw.common.mongo import Document
from aigw.devportal.projection import Db, upsert_if_newer

COLLECTION = "policies"
LIVE: Document = {"deleted": {"$ne": True}}


class QuotaLimitDoc(TypedDict):
    unit: QuotaUnit
    requests: int | None
    total_tokens: int | None
    prompt_tokens: int | None
    completion_tokens: int | None


class PlanFields(TypedDict):
    """A plan as its latest event described it (the document's `_id` is its name)."""

    description: str
    limits: list[QuotaLimitDoc]
    default_completion_tokens: int
    deleted: bool


class PlanDoc(TypedDict):
    """A live plan as read back."""

    name: str
    description: str
    limits: list[QuotaLimitDoc]
    default_completion_tokens: int


class PolicyRepository:
    def __init__(self, db: Db) -> None:
        self._coll = db[COLLECTION]

    async def upsert_if_newer(self, name: str, at: int, plan: PlanFields) -> bool:
        """Write the plan unless an event at least as new already wrote it."""
        return await upsert_if_newer(self._coll, name, at, plan)

    async def list_live(self) -> list[PlanDoc]:
        return [_plan(doc) async for doc in self._coll.find(LIVE).sort("_id", 1)]


def _plan(doc: Mapping[str, Any]) -> PlanDoc:
    return PlanDoc(
        name=doc["_id"],
        description=doc.get("description", ""),
        limits=[_limit(limit) for limit in doc.get("limits", [])],
        default_completion_tokens=doc.get("default_completion_tokens", 256),
    )


def _limit(limit: Mapping[str, Any]) -> QuotaLimitDoc:
    return QuotaLimitDoc(
        unit=limit["unit"],
        requests=limit.get("requests"),
        total_tokens=limit.get("total_tokens"),
        prompt_tokens=limit.get("prompt_tokens"),
        completion_tokens=limit.get("completion_tokens"),
    )
