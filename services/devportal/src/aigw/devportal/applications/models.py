from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from aigw.common.events import KeyType
from aigw.devportal.schemas import CamelModel, RequestModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApplicationCreate(RequestModel):
    name: Name
    description: str = Field("", max_length=1000)


class Application(CamelModel):
    id: str
    name: str
    description: str
    owner: str
    created_time: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Application":
        return cls(
            id=doc["_id"],
            name=doc["name"],
            description=doc.get("description", ""),
            owner=doc["owner"],
            created_time=doc["created_time"],
        )


class KeyCreate(CamelModel):
    key_type: KeyType


class ApplicationKey(CamelModel):
    """The only devportal response that carries a key: shown once, never stored here."""

    id: str
    api_key: str
    key_type: KeyType
    expires_at: datetime | None
