from datetime import datetime
from typing import Literal

from pydantic import Field

from aigw.common.schemas import CamelModel, RequestModel, read_only
from aigw.devportal.catalog.repository import UNLIMITED
from aigw.devportal.subscriptions.repository import SubscriptionDoc


class SubscriptionCreate(RequestModel):
    application_id: str = Field(min_length=1, max_length=256)
    api_id: str = Field(min_length=1, max_length=256)
    policy: str = Field(UNLIMITED, min_length=1, max_length=64)


class SubscriptionUpdate(RequestModel):
    """Move the subscription to another plan the API offers; a GET answer may come back with
    its read-only fields."""

    policy: str = Field(min_length=1, max_length=64)
    id: str | None = read_only()
    application_id: str | None = read_only()
    api_id: str | None = read_only()
    status: str | None = read_only()
    created_time: datetime | None = read_only()


class Subscription(CamelModel):
    id: str
    application_id: str
    api_id: str
    policy: str
    status: Literal["UNBLOCKED"] = "UNBLOCKED"
    created_time: datetime

    @classmethod
    def from_doc(cls, doc: SubscriptionDoc) -> "Subscription":
        return cls(
            id=doc["_id"],
            application_id=doc["application_id"],
            api_id=doc["api_id"],
            policy=doc["policy"],
            status=doc["status"],
            created_time=doc["created_time"],
        )
