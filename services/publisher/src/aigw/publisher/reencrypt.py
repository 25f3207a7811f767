"""Re-encrypt provider keys under the current master key (`make rotate-secret-key`).

Every provider key of an API is resealed: production's, sandbox's and each additional
endpoint's (all under `backend_security.<endpoint name>`, sealed with
`provider_key_context(api id, endpoint name, endpoint URL)`). Each API is one conditional
write through the service's own `_apply`: the new ciphertexts and, for a deployed API, a new
revision whose ApiDeployed event (carrying the new ciphertexts) is staged in the same write.
The write is conditioned on the document version read, so a concurrent change or a half-done
run never leaves a mixed state; a rerun finds nothing left to do. Gateways learn the new
revision from the stream and stop needing the old key for it.

It also migrates keys sealed before origins were bound (associated data of API id and
endpoint name only, stored without an `origin`): they are read with that old context and
resealed for the origin of the endpoint's URL as it is now, even when they are already under
the current master key. Gateways refuse such keys (they open keys only for the deployed
URL's origin), so run this once after upgrading, with AIGW_SECRET_KEY set to the current key.
"""

import logging
from dataclasses import dataclass
from typing import Any

from aigw.common.crypto import SecretBox, legacy_provider_key_context, provider_key_context
from aigw.common.errors import InvalidInput, NotFound
from aigw.common.events import EventPayload
from aigw.common.ids import utcnow_ms
from aigw.common.outbox import Outbox
from aigw.publisher.apis.repository import ApiRepository, Doc
from aigw.publisher.apis.service import ApiService, Caller
from aigw.publisher.vendors.catalog import VendorCatalog
from aigw.publisher.vendors.repository import VendorRepository

log = logging.getLogger(__name__)

CALLER = Caller(subject="system:rotate-secret-key", admin=True)  # every API, owned or not


@dataclass
class ReencryptCounts:
    apis_seen: int = 0
    keys_reencrypted: int = 0  # of which migrated to origin-bound associated data:
    keys_bound_to_origin: int = 0
    apis_redeployed: int = 0


class _NothingToReseal(Exception):
    """The document moved to the current key between the scan and the write."""


class ProviderKeyReencryptor(ApiService):
    """The API service, plus one use case: reseal an API's provider keys."""

    def __init__(
        self,
        repo: ApiRepository,
        outbox: Outbox,
        box: SecretBox,
        vendors: VendorCatalog,
        *,
        dev_mode: bool = False,
    ) -> None:
        # A redeploy needs the vendors of the APIs, custom ones too: a catalogue made without
        # a store (built-ins only) reads the custom vendors from the APIs' own database.
        if vendors.store is None:
            vendors = VendorCatalog(VendorRepository(repo.db))
        super().__init__(repo, outbox, box, vendors, dev_mode=dev_mode)

    async def reencrypt_all(self) -> ReencryptCounts:
        counts = ReencryptCounts()
        for doc in await self.list(CALLER):
            counts.apis_seen += 1
            if self._stale_names(doc):
                await self._reseal(doc["_id"], counts)
        return counts

    async def _reseal(self, api_id: str, counts: ReencryptCounts) -> None:
        written: list[int] = []  # keys resealed (and of those, legacy) by the attempt written

        async def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
            resealed = self._resealed(doc)
            legacy = [name for name in resealed if "origin" not in doc["backend_security"][name]]
            written[:] = [len(resealed), len(legacy)]
            return await self._reseal_update(doc, resealed)

        try:
            _, events = await self._apply(api_id, change, CALLER)
        except (_NothingToReseal, NotFound):  # moved on, or deleted, since the scan
            return
        counts.keys_reencrypted += written[0]
        counts.keys_bound_to_origin += written[1]
        counts.apis_redeployed += len(events)

    async def _reseal_update(
        self, doc: Doc, resealed: dict[str, dict[str, str]]
    ) -> tuple[dict[str, Any], list[EventPayload]]:
        if not resealed:
            raise _NothingToReseal
        after = {**doc, "backend_security": {**doc["backend_security"], **resealed}}
        sets: dict[str, Any] = {f"backend_security.{name}": e for name, e in resealed.items()}
        if doc.get("deployed_revision") is None:
            return {"$set": sets}, []
        # Redeploy, so gateways get the new ciphertexts (deploy's own change, same write).
        revision = doc["revision"] + 1
        try:
            snapshot = await self._snapshot(after, revision)
        except InvalidInput as exc:  # its vendor is gone: reseal, leave the deployment as is
            log.warning("API %s resealed but not redeployed: %s", doc["_id"], exc.description)
            return {"$set": sets}, []
        sets |= {"deployed_revision": revision, "deployed_time": utcnow_ms()}
        return {"$inc": {"revision": 1}, "$set": sets}, [snapshot]

    def _stale_names(self, doc: Doc) -> list[str]:
        """Keys under a retired master key, or sealed before origins were bound."""
        sealed = doc.get("backend_security") or {}
        return [
            name
            for name, entry in sealed.items()
            if entry
            and entry.get("ciphertext")
            and ("origin" not in entry or not self._box.is_current(entry["ciphertext"]))
        ]

    def _resealed(self, doc: Doc) -> dict[str, dict[str, str]]:
        """name -> the provider key, opened with the context it was sealed with, sealed under
        the current master key for the origin of the endpoint's URL."""
        resealed = {}
        for name in self._stale_names(doc):
            entry = doc["backend_security"][name]
            plain = self._box.decrypt(entry["ciphertext"], _sealed_with(doc["_id"], name, entry))
            resealed[name] = self.seal(doc, name, plain)
        return resealed


def _sealed_with(api_id: str, name: str, entry: Doc) -> str:
    if "origin" not in entry:
        return legacy_provider_key_context(api_id, name)
    # the origin is its own URL; "" (a key set before the endpoint had a URL) means none
    return provider_key_context(api_id, name, entry["origin"] or None)
