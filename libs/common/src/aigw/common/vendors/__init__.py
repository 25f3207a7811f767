"""AI vendors as data: what the gateway must know to call a provider and meter it.

A vendor definition says how the provider key is sent (a header with an optional value prefix,
a query parameter, or not at all), which headers every call carries unless the caller set them
(e.g. `anthropic-version`), which provider headers a caller may set (`callerHeaders`, e.g.
`anthropic-beta`; the gateway drops every other non-generic header), which operations the
gateway forwards (the paths and methods of its `apiDefinition`, an OpenAPI document; anything
else is the gateway's 404 or 405), and where the gateway finds what it meters: the requested and the
served model, prompt, completion and total tokens and the remaining-token count, each from the
request or response body (a JSONPath), a header or a query parameter. Streams are metered per
server-sent event with the `stream` attributes (the body attributes when a stream attribute is
not given).

The built-in vendors are JSON files in `builtin/`, loaded with the same validation as a custom
vendor a publisher creates; the gateway receives a vendor as a `VendorSpec` inside each
deployed revision, so changing a vendor affects an API from its next deploy on.
"""

from aigw.common.vendors.builtin import BUILT_IN_VENDORS, builtin_spec
from aigw.common.vendors.spec import (
    Attribute,
    Metadata,
    StreamMetadata,
    VendorAuth,
    VendorDefinition,
    VendorSpec,
)

__all__ = [
    "BUILT_IN_VENDORS",
    "Attribute",
    "Metadata",
    "StreamMetadata",
    "VendorAuth",
    "VendorDefinition",
    "VendorSpec",
    "builtin_spec",
]
