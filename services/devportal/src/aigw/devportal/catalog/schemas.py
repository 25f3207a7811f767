from aigw.common.schemas import CamelModel
from aigw.devportal.catalog.repository import CatalogEntry


class AiVendor(CamelModel):
    name: str
    version: str


class CatalogApi(CamelModel):
    id: str
    name: str
    context: str
    version: str
    route_prefix: str
    ai_vendor: AiVendor
    description: str
    lifecycle_status: str
    policies: list[str]

    @classmethod
    def from_entry(cls, entry: CatalogEntry) -> "CatalogApi":
        return cls(
            id=entry["_id"],
            name=entry["name"],
            context=entry["context"],
            version=entry["version"],
            route_prefix=entry["route_prefix"],
            ai_vendor=AiVendor(**entry["vendor"]),
            description=entry["description"],
            lifecycle_status=entry["lifecycle_status"],
            policies=entry["policies"],
        )


class TestKey(CamelModel):
    __test__ = False  # not a pytest class, whatever collects it

    api_key: str
    expires_in: int
