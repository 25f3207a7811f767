"""The AI vendors' OpenAPI documents, for the Developer Portal's Try Out: a built-in vendor's
from the product (they never change), a custom one's from its events' read model."""

from typing import Any

from aigw.common.vendors import BUILT_IN_VENDORS
from aigw.devportal.vendors.repository import VendorDefinitionRepository

_BUILT_IN = {(v.name, v.version): v.api_definition for v in BUILT_IN_VENDORS}


class VendorDefinitionService:
    def __init__(self, repo: VendorDefinitionRepository) -> None:
        self._repo = repo

    async def api_definition(self, name: str, version: str) -> dict[str, Any] | None:
        """The vendor's OpenAPI document: a built-in's, or the latest a custom vendor's events
        carried (None for an unknown or deleted vendor, or one whose events carried none)."""
        if (name, version) in _BUILT_IN:
            return _BUILT_IN[(name, version)]
        return await self._repo.api_definition(name, version)
