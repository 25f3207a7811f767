"""`/ai-vendors`: the vendors an AI API can be built on."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from aigw.common.auth import require_roles
from aigw.common.errors import NotFound
from aigw.publisher.vendors.catalog import Vendor, VendorCatalog
from aigw.publisher.vendors.schemas import VendorList

router = APIRouter(
    prefix="/api/publisher/v1/ai-vendors",
    tags=["ai-vendors"],
    dependencies=[Depends(require_roles("admin", "publisher"))],
)


def _catalog(request: Request) -> VendorCatalog:
    catalog: VendorCatalog = request.app.state.vendors
    return catalog


Catalog = Annotated[VendorCatalog, Depends(_catalog)]


@router.get("", response_model=VendorList, response_model_by_alias=True)
async def list_vendors(catalog: Catalog) -> VendorList:
    vendors = list(catalog.all())
    return VendorList.of(vendors)


@router.get("/{name}/{version}", response_model=Vendor, response_model_by_alias=True)
async def get_vendor(name: str, version: str, catalog: Catalog) -> Vendor:
    vendor = catalog.find(name, version)
    if vendor is None:
        raise NotFound(f"No AI vendor {name} {version}; known vendors: {catalog.describe()}")
    return vendor
