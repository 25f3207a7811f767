from typing import Any, Literal

from aigw.devportal.schemas import CamelModel


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
    def from_doc(cls, doc: dict[str, Any]) -> "Plan":
        return cls(
            name=doc["_id"],
            description=doc.get("description", ""),
            limits=[QuotaLimitOut(**limit) for limit in doc.get("limits", [])],
            default_completion_tokens=doc.get("default_completion_tokens", 256),
        )
