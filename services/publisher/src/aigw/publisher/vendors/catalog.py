"""The built-in AI vendors. A vendor is data: adding one is adding an entry, not a code branch.

The gateway needs only `name`, `version` and `auth` (see `VendorWire`); the rest tells a
publisher what to expect from the provider.
"""

from pydantic import ConfigDict

from aigw.common.events import VendorWire
from aigw.common.schemas import CamelModel


class _FrozenCamel(CamelModel):
    model_config = ConfigDict(frozen=True)


class VendorAuth(_FrozenCamel):
    header: str
    value_prefix: str = ""


class Vendor(_FrozenCamel):
    name: str
    version: str
    description: str
    auth: VendorAuth
    endpoint_example: str
    paths: tuple[str, ...]

    def wire(self) -> VendorWire:
        return VendorWire(
            name=self.name,
            version=self.version,
            auth_header=self.auth.header,
            auth_prefix=self.auth.value_prefix,
        )


_OPENAI_STYLE_PATHS = ("/v1/chat/completions", "/v1/embeddings", "/v1/models")
_AZURE_API_VERSION = "2024-10-21"

BUILT_IN_VENDORS: tuple[Vendor, ...] = (
    Vendor(
        name="OpenAI",
        version="v1",
        description="OpenAI API (chat completions, embeddings, models)",
        auth=VendorAuth(header="Authorization", value_prefix="Bearer "),
        endpoint_example="https://api.openai.com",
        paths=_OPENAI_STYLE_PATHS,
    ),
    Vendor(
        name="MistralAI",
        version="v1",
        description="Mistral AI API (OpenAI-compatible chat completions)",
        auth=VendorAuth(header="Authorization", value_prefix="Bearer "),
        endpoint_example="https://api.mistral.ai",
        paths=_OPENAI_STYLE_PATHS,
    ),
    Vendor(
        name="AzureOpenAI",
        version=_AZURE_API_VERSION,
        description="Azure OpenAI Service; the key goes in the 'api-key' header",
        auth=VendorAuth(header="api-key", value_prefix=""),
        endpoint_example="https://{resource}.openai.azure.com",
        paths=(
            f"/openai/deployments/{{deployment}}/chat/completions?api-version={_AZURE_API_VERSION}",
            f"/openai/deployments/{{deployment}}/embeddings?api-version={_AZURE_API_VERSION}",
        ),
    ),
)


class VendorCatalog:
    """Looks vendors up by (name, version); the order of `all()` is the display order."""

    def __init__(self, vendors: tuple[Vendor, ...] = BUILT_IN_VENDORS) -> None:
        self._vendors = vendors
        self._by_key = {(v.name, v.version): v for v in vendors}

    def all(self) -> tuple[Vendor, ...]:
        return self._vendors

    def find(self, name: str, version: str) -> Vendor | None:
        return self._by_key.get((name, version))

    def describe(self) -> str:
        """The known vendors, for error messages that tell the caller what would work."""
        return ", ".join(f"{v.name} {v.version}" for v in self._vendors)
