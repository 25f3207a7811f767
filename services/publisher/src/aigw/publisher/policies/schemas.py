"""Request and response bodies of `/subscription-policies` (business plans)."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, model_validator

from aigw.common.events import QuotaLimit, QuotaUnit
from aigw.common.schemas import CamelModel, Collection, RequestModel, read_only
from aigw.publisher.policies.repository import PolicyDoc

UNLIMITED = "Unlimited"
NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# strict: "5" or 5.5 is a client mistake, not a quota
Count = Annotated[int, Field(strict=True, gt=0, le=10**12)]
COUNTERS = ("requests", "total_tokens", "prompt_tokens", "completion_tokens")


class LimitBody(RequestModel):
    """One quota window: any combination of the four counters, at least one."""

    unit: QuotaUnit
    requests: Count | None = None
    total_tokens: Count | None = None
    prompt_tokens: Count | None = None
    completion_tokens: Count | None = None

    @model_validator(mode="after")
    def _at_least_one_counter(self) -> Self:
        if all(getattr(self, name) is None for name in COUNTERS):
            raise ValueError(
                "a limit needs at least one of requests, totalTokens, promptTokens, "
                "completionTokens"
            )
        return self

    def to_event(self) -> QuotaLimit:
        return QuotaLimit(**self.model_dump())


class PolicyChange(RequestModel):
    """What PUT replaces: everything but the name."""

    description: str = Field("", max_length=1000)
    limits: list[LimitBody] = Field(default_factory=list, max_length=3)
    default_completion_tokens: Count = 256

    @model_validator(mode="after")
    def _one_limit_per_unit(self) -> Self:
        units = [limit.unit for limit in self.limits]
        if len(units) != len(set(units)):
            raise ValueError("at most one limit per unit (minute, hour, day)")
        return self


class PolicyIn(PolicyChange):
    name: str = Field(pattern=NAME_PATTERN)


class PolicyUpdate(PolicyChange):
    """The PUT body: a GET answer may come back with its read-only fields (the name is the
    path's)."""

    name: str | None = read_only()
    created_time: datetime | None = read_only()
    updated_time: datetime | None = read_only()


class PolicyOut(CamelModel):
    name: str
    description: str
    limits: list[LimitBody]
    default_completion_tokens: int
    created_time: datetime
    updated_time: datetime

    @classmethod
    def from_doc(cls, doc: PolicyDoc) -> Self:
        return cls(
            name=doc["name"],
            description=doc["description"],
            limits=[LimitBody.model_validate(limit) for limit in doc["limits"]],
            default_completion_tokens=doc["default_completion_tokens"],
            created_time=doc["created_time"],
            updated_time=doc["updated_time"],
        )


PolicyList = Collection[PolicyOut]
