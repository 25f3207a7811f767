"""Event payloads as the fold needs them, decoded with what replay repeats done once.

Thousands of deployed revisions carry the same vendor definition (a built-in vendor, or a custom
one between two of its changes): its validation is most of an `ApiDeployed`'s cost, so each
distinct definition (same name, version and content) is validated once and its `VendorSpec`
shared; `routing.vendor.VendorProfiles` then compiles it once too. Anything else, and a deploy
of an older data version (upcast first), goes through `EventPayload.from_data` as it is.

The same payload comes from an envelope read from the stream (`payload`) or from the `data` a
snapshot kept of it (`restored`, routing.snapshot): a kept payload of this build's data version
is validated straight from its JSON, with no envelope and no intermediate dict to build.
"""

import json
from typing import Any

from aigw.common.events import EVENT_TYPES, ApiDeployed, Envelope, EventPayload
from aigw.common.vendors import VendorSpec


class PayloadDecoder:
    def __init__(self) -> None:
        # (name, version) → the last definition seen as it came (JSON-decoded) and its model
        self._vendors: dict[tuple[object, object], tuple[dict[str, Any], VendorSpec]] = {}

    def payload(self, envelope: Envelope) -> EventPayload | None:
        """`events.parse_payload(envelope)`, the same payload (ValidationError alike)."""
        cls = EVENT_TYPES.get(envelope.type)
        return None if cls is None else self._decoded(cls, envelope.dataversion, envelope.data)

    def restored(self, event_type: str, version: int, data: bytes) -> EventPayload | None:
        """The payload of an event of `event_type` whose `data` (JSON) is at `version`: what
        `payload` gives for the envelope it came in."""
        cls = EVENT_TYPES.get(event_type)
        if cls is None:
            return None
        if version == cls.VERSION and cls is not ApiDeployed:
            return cls.model_validate_json(data)
        decoded = json.loads(data)
        if not isinstance(decoded, dict):
            raise TypeError(f"the {event_type} event's data is not a JSON object")
        return self._decoded(cls, version, decoded)

    def _decoded(self, cls: type[EventPayload], version: int, data: dict[str, Any]) -> EventPayload:
        if cls is ApiDeployed and version == ApiDeployed.VERSION:
            raw = data.get("vendor")
            if isinstance(raw, dict):
                return ApiDeployed.model_validate({**data, "vendor": self._vendor(raw)})
        return cls.from_data(data, version)

    def _vendor(self, raw: dict[str, Any]) -> VendorSpec:
        key = (raw.get("name"), raw.get("version"))
        held = self._vendors.get(key)
        if held is not None and held[0] == raw:
            return held[1]
        spec = VendorSpec.model_validate(raw)
        self._vendors[key] = (raw, spec)
        return spec
