"""`/ai-vendors`: the vendors an AI API can be built on. Publishers read them; admins add,
change and delete custom vendors (the built-in ones are read-only)."""

from fastapi import APIRouter, Response, status

from aigw.common.vendors import VendorDefinition
from aigw.publisher.access import Admin, Reader, Vendors
from aigw.publisher.vendors.schemas import VendorList, VendorOut, VendorUpdate

PREFIX = "/api/publisher/v1/ai-vendors"

router = APIRouter(prefix=PREFIX, tags=["ai-vendors"])


@router.get("")
async def list_vendors(_: Reader, vendors: Vendors) -> VendorList:
    """Every vendor: the built-in ones first, then the custom ones in creation order."""
    return VendorList.of([VendorOut.of(v) for v in await vendors.list_all()])


@router.get("/{name}/{version}")
async def get_vendor(name: str, version: str, _: Reader, vendors: Vendors) -> VendorOut:
    return VendorOut.of(await vendors.get(name, version))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_vendor(
    body: VendorDefinition, who: Admin, vendors: Vendors, response: Response
) -> VendorOut:
    """Add a custom vendor. Its name and version must not be those of a built-in or an
    existing custom vendor (409)."""
    vendor = await vendors.create(body, who)
    response.headers["Location"] = f"{PREFIX}/{body.name}/{body.version}"
    return VendorOut.of(vendor)


@router.put("/{name}/{version}")
async def update_vendor(
    name: str, version: str, body: VendorUpdate, who: Admin, vendors: Vendors
) -> VendorOut:
    """Replace a custom vendor's definition (the body's name and version must be the path's;
    built-in vendors are read-only). An API on the vendor uses the new definition from its
    next deploy on: deployed revisions keep the definition they were deployed with."""
    return VendorOut.of(await vendors.update(name, version, body, who))


@router.delete("/{name}/{version}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_vendor(name: str, version: str, who: Admin, vendors: Vendors) -> None:
    """Delete a custom vendor no API uses (409 naming the APIs that do; built-in vendors are
    read-only)."""
    await vendors.delete(name, version, who)
