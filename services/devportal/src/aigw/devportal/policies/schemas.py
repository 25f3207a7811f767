from typing import Literal

from aigw.common.schemas import CamelModel
from aigw.devportal.policies.repository import PlanDoc


class QuotaLimitOut(CamelModel):
    unit: Literal["minute", "hour", "day"]
    requests: int | None = None
    total_tokens: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Plan(CamelModel):
    """A business plan as the portal shows it when a developer subscribes."""

    name: str
    description: str
    limits: list[QuotaLimitOut]
    default_completion_tokens: int

    @classmethod
    def from_doc(cls, doc: PlanDoc) -> "Plan":
        return cls(
            name=doc["name"],
            description=doc["description"],
            limits=[QuotaLimitOut(**limit) for limit in doc["limits"]],
            default_completion_tokens=doc["default_completion_tokens"],
        )
