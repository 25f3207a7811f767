from pydantic import BaseModel

from aigw.publisher.vendors.catalog import Vendor


class VendorList(BaseModel):
    count: int
    list: list[Vendor]
