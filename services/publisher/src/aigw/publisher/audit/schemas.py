"""The audit API's answers: each event as its CloudEvents envelope (the attribute names of
CloudEvents, not the management APIs' camelCase), a page of them, and the query."""

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aigw.common.schemas import CamelModel

Format = Literal["json", "ndjson"]
NDJSON = "application/x-ndjson"


class AuditEvent(BaseModel):
    """One management event, exactly as its service published it on the event stream."""

    model_config = ConfigDict(extra="allow")

    specversion: str = Field(description="CloudEvents version: `1.0`")
    id: str = Field(description="The event's id (also its JetStream message id)")
    source: str = Field(description="The service that emitted it: publisher, devportal, ...")
    type: str = Field(description="What happened, e.g. `aigw.api.deployed` (also its subject)")
    subject: str = Field(description="The id of the entity it is about (an API, a key, ...)")
    time: datetime = Field(description="When it happened (UTC)")
    actor: str = Field(description="Who acted: a username, or a service doing its own work")
    correlationid: str = Field(
        description="The id of the request that caused it: every event one request caused, in "
        "any service, carries the same one (a client may choose it: `X-Correlation-ID`)"
    )
    datacontenttype: str = "application/json"
    dataversion: int = Field(1, description="The version of the payload's schema")
    data: dict[str, Any] = Field(description="The payload; never a secret in plaintext")


class AuditPage(CamelModel):
    """A page of the trail, newest first."""

    count: int = Field(description="How many events this page holds")
    list: builtins.list[AuditEvent]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page"
    )


@dataclass(frozen=True)
class AuditQuery:
    """The filters of a query, each exact; the window is half-open [start, end)."""

    type: str | None = None
    subject: str | None = None
    actor: str | None = None
    correlation_id: str | None = None
    application_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
