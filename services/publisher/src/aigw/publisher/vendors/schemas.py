"""Request and response bodies of `/ai-vendors`: a request is a `VendorDefinition` (camelCase),
a response the same fields plus `builtIn`."""

from typing import Self

from pydantic import Field

from aigw.common.schemas import Collection, read_only
from aigw.common.vendors import VendorDefinition
from aigw.publisher.vendors.catalog import KnownVendor


class VendorUpdate(VendorDefinition):
    """The PUT body: a definition; a GET answer may come back with its read-only `builtIn`."""

    built_in: bool | None = read_only()


class VendorOut(VendorDefinition):
    built_in: bool = Field(description="shipped with the product (read-only)")

    @classmethod
    def of(cls, vendor: KnownVendor) -> Self:
        fields = vendor.definition.model_dump(by_alias=False)
        return cls.model_validate({**fields, "built_in": vendor.built_in})


VendorList = Collection[VendorOut]
