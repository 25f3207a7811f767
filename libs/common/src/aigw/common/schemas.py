"""The JSON convention of the management APIs: camelCase on the wire, snake_case in Python,
and every list endpoint answers `{"count": n, "list": [...]}`."""

import builtins
from typing import Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Collection[T](CamelModel):
    """The collection envelope of every list endpoint."""

    count: int
    list: builtins.list[T]

    @classmethod
    def of(cls, items: builtins.list[T]) -> Self:
        return cls(count=len(items), list=items)
