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
    policies: list[str]

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
            policies=offered_policies(doc),
        )


def offered_policies(doc: dict[str, Any]) -> list[str]:
    """The plans an API offers; APIs published before plans existed offer `Unlimited`."""
    return list(doc.get("policies") or ["Unlimited"])


class TestKey(CamelModel):
    __test__ = False  # not a pytest class, whatever collects it

    api_key: str
    expires_in: int
