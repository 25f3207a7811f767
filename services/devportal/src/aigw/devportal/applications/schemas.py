from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from aigw.common.schemas import CamelModel, RequestModel
from aigw.devportal.applications.repository import ApplicationDoc

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
    def from_doc(cls, doc: ApplicationDoc) -> "Application":
        return cls(
            id=doc["_id"],
            name=doc["name"],
            description=doc["description"],
            owner=doc["owner"],
            created_time=doc["created_time"],
        )
