"""Event payloads as the fold needs them, decoded with what replay repeats done once.

Thousands of deployed revisions carry the same vendor definition (a built-in vendor, or a custom
one between two of its changes): its validation is most of an `ApiDeployed`'s cost, so each
distinct definition (same name, version and content) is validated once and its `VendorSpec`
shared; `routing.vendor.VendorProfiles` then compiles it once too. Anything else, and a deploy
of an older data version (upcast first), goes through `events.parse_payload` as it is.
"""

from typing import Any

from aigw.common.events import ApiDeployed, Envelope, EventPayload, parse_payload
from aigw.common.vendors import VendorSpec


class PayloadDecoder:
    def __init__(self) -> None:
        # (name, version) → the last definition seen as it came (JSON-decoded) and its model
        self._vendors: dict[tuple[object, object], tuple[dict[str, Any], VendorSpec]] = {}

    def payload(self, envelope: Envelope) -> EventPayload | None:
        """`events.parse_payload(envelope)`, the same payload (ValidationError alike)."""
        if envelope.type == ApiDeployed.TYPE and envelope.dataversion == ApiDeployed.VERSION:
            raw = envelope.data.get("vendor")
            if isinstance(raw, dict):
                data = {**envelope.data, "vendor": self._vendor(raw)}
                return ApiDeployed.model_validate(data)
        return parse_payload(envelope)

    def _vendor(self, raw: dict[str, Any]) -> VendorSpec:
        key = (raw.get("name"), raw.get("version"))
        held = self._vendors.get(key)
        if held is not None and held[0] == raw:
            return held[1]
        spec = VendorSpec.model_validate(raw)
        self._vendors[key] = (raw, spec)
        return spec
