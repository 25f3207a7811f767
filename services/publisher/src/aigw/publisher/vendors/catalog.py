"""The AI vendors an API can be built on: the built-ins (read-only, shipped with the product as
JSON definitions in `aigw.common.vendors`) followed by the custom vendors admins created.

A vendor is data: adding one is adding a definition, not a code branch. Lookups are by exact
(name, version); the order of `all()` is the display order.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from aigw.common.vendors import BUILT_IN_VENDORS, VendorDefinition, VendorSpec
from aigw.publisher.vendors.repository import VendorRepository, definition_of


@dataclass(frozen=True, slots=True)
class KnownVendor:
    definition: VendorDefinition
    built_in: bool


class VendorCatalog:
    """Built-in vendors, plus the custom ones in `store` (none without a store)."""

    def __init__(
        self,
        store: VendorRepository | None = None,
        built_ins: Sequence[VendorDefinition] = BUILT_IN_VENDORS,
    ) -> None:
        self._store = store
        self._built_ins = tuple(built_ins)
        self._by_key = {(v.name, v.version): v for v in self._built_ins}

    def built_in(self, name: str, version: str) -> VendorDefinition | None:
        return self._by_key.get((name, version))

    async def all(self) -> list[KnownVendor]:
        vendors = [KnownVendor(v, built_in=True) for v in self._built_ins]
        if self._store is not None:
            docs = await self._store.list_all()
            vendors += [KnownVendor(definition_of(doc), built_in=False) for doc in docs]
        return vendors

    async def find(self, name: str, version: str) -> KnownVendor | None:
        built_in = self.built_in(name, version)
        if built_in is not None:
            return KnownVendor(built_in, built_in=True)
        if self._store is None:
            return None
        doc = await self._store.get(name, version)
        return None if doc is None else KnownVendor(definition_of(doc), built_in=False)

    async def spec(self, name: str, version: str) -> VendorSpec | None:
        """What the gateway needs of the vendor, as it is defined now."""
        vendor = await self.find(name, version)
        return None if vendor is None else vendor.definition.spec()

    async def describe(self) -> str:
        """The known vendors, for error messages that tell the caller what would work."""
        return ", ".join(f"{v.definition.name} {v.definition.version}" for v in await self.all())
