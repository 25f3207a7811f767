"""`/ai-vendors`: the vendors an AI API can be built on. Publishers read them; admins add,
change and delete custom vendors (the built-in ones are read-only)."""

from fastapi import APIRouter, Request, Response, status

from aigw.common.vendors import VendorDefinition
from aigw.publisher.deps import AdminActor, Reader, Vendors
from aigw.publisher.vendors.schemas import VendorList, VendorOut, VendorUpdate

router = APIRouter(prefix="/ai-vendors", tags=["ai-vendors"])


@router.get("")
async def list_vendors(_: Reader, vendors: Vendors) -> VendorList:
    """Every vendor: the built-in ones first, then the custom ones in creation order."""
    return VendorList.of([VendorOut.of(v) for v in await vendors.list_all()])


@router.get("/{name}/{version}")
async def get_vendor(name: str, version: str, _: Reader, vendors: Vendors) -> VendorOut:
    return VendorOut.of(await vendors.get(name, version))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_vendor(
    body: VendorDefinition,
    actor: AdminActor,
    vendors: Vendors,
    request: Request,
    response: Response,
) -> VendorOut:
    """Add a custom vendor. Its name and version must not be those of a built-in or an
    existing custom vendor (409)."""
    vendor = await vendors.create(body, actor)
    location = request.app.url_path_for("get_vendor", name=body.name, version=body.version)
    response.headers["Location"] = location
    return VendorOut.of(vendor)


@router.put("/{name}/{version}")
async def update_vendor(
    name: str, version: str, body: VendorUpdate, actor: AdminActor, vendors: Vendors
) -> VendorOut:
    """Replace a custom vendor's definition (the body's name and version must be the path's;
    built-in vendors are read-only). An API on the vendor uses the new definition from its
    next deploy on: deployed revisions keep the definition they were deployed with."""
    return VendorOut.of(await vendors.update(name, version, body, actor))


@router.delete("/{name}/{version}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_vendor(name: str, version: str, actor: AdminActor, vendors: Vendors) -> None:
    """Delete a custom vendor no API uses (409 naming the APIs that do; built-in vendors are
    read-only)."""
    await vendors.delete(name, version, actor)
