"""The business plans a developer may choose from when subscribing (publisher's, as its
events described them)."""

from aigw.devportal.policies.repository import PolicyRepository
from aigw.devportal.policies.schemas import Plan


class PolicyService:
    def __init__(self, repo: PolicyRepository) -> None:
        self._repo = repo

    async def list_plans(self) -> list[Plan]:
        return [Plan.from_doc(doc) for doc in await self._repo.list_live()]
