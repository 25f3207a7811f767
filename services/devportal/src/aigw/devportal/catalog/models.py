from typing import Any

from aigw.devportal.schemas import CamelModel


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

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "CatalogApi":
        return cls(
            id=doc["_id"],
            name=doc["name"],
            context=doc["context"],
            version=doc["version"],
            route_prefix=doc["route_prefix"],
            ai_vendor=AiVendor.model_validate(doc["vendor"]),
            description=doc.get("description", ""),
            lifecycle_status=doc["lifecycle_status"],
        )


class TestKey(CamelModel):
    __test__ = False  # not a pytest class, whatever collects it

    api_key: str
    expires_in: int
