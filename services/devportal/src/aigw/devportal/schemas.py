"""The JSON convention of the management APIs: camelCase on the wire, snake_case in Python."""

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Collection[T](CamelModel):
    """Every list endpoint answers `{"count": n, "list": [...]}`."""

    count: int
    items: list[T] = Field(alias="list")

    @classmethod
    def of(cls, items: list[T]) -> "Collection[T]":
        return cls(count=len(items), items=items)
