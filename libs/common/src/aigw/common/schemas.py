"""The JSON convention of the management APIs: camelCase on the wire, snake_case in Python,
every list endpoint answers `{"count": n, "list": [...]}`, and request bodies refuse fields
they do not know."""

import builtins
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestModel(CamelModel):
    """A request body (or a part of one): an unknown field is a 422 naming it, not silently
    dropped, so a client's typo is never lost. Responses and event payloads stay lenient."""

    model_config = ConfigDict(extra="forbid")


def read_only() -> Any:
    """A field a GET answers and a PUT may send back (GET, edit, PUT): accepted and ignored,
    never stored. Only on update bodies, next to the fields a client may change."""
    return Field(
        None,
        exclude=True,
        json_schema_extra={"readOnly": True},
        description="read-only (as GET answers it): accepted and ignored",
    )


class Collection[T](CamelModel):
    """The collection envelope of every list endpoint."""

    count: int
    list: builtins.list[T]

    @classmethod
    def of(cls, items: builtins.list[T]) -> Self:
        return cls(count=len(items), list=items)
