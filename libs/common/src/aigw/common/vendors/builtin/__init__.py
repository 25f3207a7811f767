"""The vendors shipped with the product, one JSON definition per file (display order below)."""

import json
from importlib import resources

from aigw.common.vendors.spec import VendorDefinition, VendorSpec

_FILES = ("openai.json", "mistralai.json", "azureopenai.json", "anthropic.json")


def _load(file: str) -> VendorDefinition:
    text = resources.files(__name__).joinpath(file).read_text(encoding="utf-8")
    return VendorDefinition.model_validate(json.loads(text))


BUILT_IN_VENDORS: tuple[VendorDefinition, ...] = tuple(_load(file) for file in _FILES)
_BY_KEY = {(v.name, v.version): v for v in BUILT_IN_VENDORS}


def builtin_spec(name: str, version: str) -> VendorSpec | None:
    vendor = _BY_KEY.get((name, version))
    return None if vendor is None else vendor.spec()
