"""The rules of an API's stored provider keys (`backend_security.<endpoint name>`): a key is
sealed for the origin of its endpoint's URL and goes with that origin; what a deploy needs;
which keys a master-key rotation must reseal; sealing and opening a key with the master key.
Functions of the document (and the master key's box): the use cases write what they return."""

import json
from typing import Any

from aigw.common.crypto import (
    SecretBox,
    endpoint_origin,
    legacy_provider_key_context,
    mask_secret,
    provider_key_context,
)
from aigw.common.errors import Conflict
from aigw.common.vendors import VendorSpec
from aigw.publisher.apis.repository import ApiDoc, KeyEntry
from aigw.publisher.apis.schemas import (
    ENDPOINT_TYPES,
    endpoint_names,
    endpoint_url,
    keyless,
    keys_missing,
    sealed_key,
)


def check_keys(api: ApiDoc, vendor: VendorSpec) -> None:
    """A deploy must not send calls to the provider without the key it needs: the provider
    would answer each one 401, which the caller would take for their own key being wrong."""
    cleared, never_set = keys_missing(api, vendor_needs_key=vendor.auth.type != "unsecured")
    if not cleared and not never_set:
        return
    reasons = []
    if never_set:
        reasons.append(
            f"{_endpoints(never_set)} {'has' if len(never_set) == 1 else 'have'} no provider "
            f"key, and vendor '{vendor.name}' {vendor.version} needs one"
        )
    if cleared:
        reasons.append(
            f"the provider key of {_endpoints(cleared)} was cleared because the endpoint now "
            "points at another origin than the key was set for"
        )
    example = ", ".join(f'"{name}": {{"apiKey": "..."}}' for name in never_set + cleared)
    raise Conflict(
        f"API '{api['_id']}' cannot be deployed: {'; '.join(reasons)}. Set the key with "
        f"PUT /apis/{api['_id']}/backend-security {{{example}}}, or set it to null to call "
        "the endpoint without a provider key"
    )


def _endpoints(names: list[str]) -> str:
    listed = ", ".join(f"'{name}'" for name in names)
    return f"endpoint {listed}" if len(names) == 1 else f"endpoints {listed}"


def keys_left_behind(before: ApiDoc, after: ApiDoc) -> tuple[list[str], list[str]]:
    """The stored keys an update of `before` into `after` must drop: (removed, cleared).
    Removed: the endpoint is gone, or has no URL any more. Cleared: the endpoint moved to
    another origin, so its key (sealed for the old one) must never be sent there; a key (or
    a null, for no key) is required again before the next deploy. A path change on the same
    origin keeps the key."""
    removed, cleared = [], []
    names = endpoint_names(after)
    for name in sorted(before.get("backend_security") or {}):
        url = endpoint_url(after, name) if name in names else None
        decided = bool(sealed_key(before, name)) or keyless(before, name)
        if decided and key_origin(before, name) == endpoint_origin(url):
            continue  # the key stays with its origin (a key set before any URL: with none)
        if url is None:
            removed.append(name)
        elif decided:
            cleared.append(name)
    return removed, cleared


def refuse_dropping_keys(api: ApiDoc, removed: list[str]) -> None:
    """A PUT that leaves out an endpoint holding a provider key is most likely a body built
    without it (PUT replaces the whole API): say so instead of dropping the key."""
    keyed = [name for name in removed if sealed_key(api, name)]
    if not keyed:
        return
    names = ", ".join(f"'{name}'" for name in keyed)
    nulls = json.dumps(dict.fromkeys(keyed))
    raise Conflict(
        f"This PUT would remove endpoint {names} of API '{api['_id']}', which has a provider "
        f"key stored. To remove it, remove its key first (PUT .../backend-security {nulls}), "
        "or remove the endpoint with PATCH (e.g. "
        f"{json.dumps(_removal_patch(keyed))}), which removes its key with it. To keep it, "
        "send it again, or change only what you mean to with PATCH"
    )


def _removal_patch(names: list[str]) -> dict[str, Any]:
    """The merge patch that removes the named endpoints."""
    patch: dict[str, Any] = {}
    for name in names:
        group = "endpoints" if name in ENDPOINT_TYPES else "additionalEndpoints"
        patch.setdefault(group, {})[name] = None
    return patch


def keyless_entry(api: ApiDoc, name: str) -> KeyEntry:
    return {"keyless": True, "origin": endpoint_origin(endpoint_url(api, name))}


def key_origin(api: ApiDoc, name: str) -> str:
    """The origin the stored key was sealed for; keys sealed before origins were bound are
    taken to belong to the endpoint's URL as it was."""
    entry = (api.get("backend_security") or {}).get(name) or {}
    return str(entry["origin"]) if "origin" in entry else endpoint_origin(endpoint_url(api, name))


def stale(api: ApiDoc, box: SecretBox) -> list[str]:
    """The endpoints whose key a rotation must reseal: sealed under a retired master key, or
    before origins were bound."""
    sealed = api.get("backend_security") or {}
    return [
        name
        for name, entry in sealed.items()
        if entry
        and entry.get("ciphertext")
        and ("origin" not in entry or not box.is_current(entry["ciphertext"]))
    ]


def sealed(api: ApiDoc, name: str, api_key: str, box: SecretBox) -> KeyEntry:
    """The stored form of endpoint `name`'s provider key: sealed for its URL's origin."""
    url = endpoint_url(api, name)
    context = provider_key_context(api["_id"], name, url)
    return {
        "ciphertext": box.encrypt(api_key, context),
        "masked": mask_secret(api_key),
        "origin": endpoint_origin(url),
    }


def opened(api: ApiDoc, name: str, box: SecretBox) -> str:
    """The plaintext of endpoint `name`'s stored key, opened with the context it was sealed
    with: the origin it was sealed for ("" for a key set before the endpoint had a URL), or
    for keys sealed before origins were bound, API id and endpoint name only."""
    entry = api["backend_security"][name]
    if "origin" not in entry:
        context = legacy_provider_key_context(api["_id"], name)
    else:
        context = provider_key_context(api["_id"], name, entry["origin"] or None)
    return box.decrypt(entry["ciphertext"], context)
