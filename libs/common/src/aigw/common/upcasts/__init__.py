"""Upcasters: pure functions from an old payload version to the next.

An upcaster must give the same result in every build, or replaying the same stream would fold
to different states. So it reads only the old payload and data frozen next to it, never the
current vendor catalogue or settings (which change between releases).
"""

import json
from importlib import resources
from typing import Any

# The built-in vendors of the v1 era (OpenAI, MistralAI, AzureOpenAI), as the first v2 build
# defined them, without the fields v2 revisions did not carry then (`operations`,
# `caller_headers`): frozen, never regenerated from `aigw.common.vendors.builtin`.
_V1_VENDORS: dict[str, dict[str, Any]] = json.loads(
    resources.files(__name__).joinpath("api_deployed_v1_vendors.json").read_text("utf-8")
)


def api_deployed_v1(data: dict[str, Any]) -> dict[str, Any]:
    """`aigw.api.deployed` v1 -> v2. v1 vendors were `{name, version, auth_header,
    auth_prefix}`, always a built-in vendor: take that vendor's frozen v1-era definition, with
    the auth the event was sent with. `operations` stays unset, the v2 meaning of "deployed
    before operations travelled" (the gateway decides what such a revision forwards)."""
    old = data["vendor"]
    frozen = _V1_VENDORS.get(f"{old['name']}/{old['version']}")
    vendor = json.loads(json.dumps(frozen)) if frozen is not None else {}  # a deep copy
    vendor |= {
        "name": old["name"],
        "version": old["version"],
        "auth": {
            "type": "header",
            "name": old["auth_header"],
            "value_prefix": old.get("auth_prefix", ""),
        },
    }
    return {**data, "vendor": vendor}


def usage_recorded_v1(data: dict[str, Any]) -> dict[str, Any]:
    """`aigw.usage.recorded` v1 -> v2. A v1 record's `request_id` was the record's own id
    (no caller ever saw it): it becomes `record_id`, and the record has no request id."""
    records = []
    for record in data.get("records", []):
        renamed = {key: value for key, value in record.items() if key != "request_id"}
        records.append({**renamed, "record_id": record.get("request_id"), "request_id": None})
    return {**data, "records": records}
