from aigw.common.schemas import Collection
from aigw.publisher.vendors.catalog import Vendor

VendorList = Collection[Vendor]
