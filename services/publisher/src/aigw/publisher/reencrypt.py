"""Re-encrypt provider keys under the current master key (`make rotate-secret-key`).

Every provider key of an API is resealed: production's, sandbox's and each additional
endpoint's (all under `backend_security.<endpoint name>`, sealed with
`provider_key_context(api id, endpoint name)`). Each API is one conditional write through the
service's own `_apply`: the new ciphertexts and, for a deployed API, a new revision whose
ApiDeployed event (carrying the new ciphertexts) is staged in the same write. The write is conditioned on the document version
read, so a concurrent change or a half-done run never leaves a mixed state; a rerun finds
nothing left to do. Gateways learn the new revision from the stream and stop needing the
old key for it.
"""

import logging
from dataclasses import dataclass
from typing import Any

from aigw.common.crypto import SecretBox, provider_key_context
from aigw.common.errors import InvalidInput, NotFound
from aigw.common.events import EventPayload
from aigw.common.ids import utcnow_ms
from aigw.common.outbox import Outbox
from aigw.publisher.apis.repository import ApiRepository, Doc
from aigw.publisher.apis.service import ApiService, Caller
from aigw.publisher.vendors.catalog import VendorCatalog
from aigw.publisher.vendors.repository import VendorRepository

log = logging.getLogger(__name__)

CALLER = Caller(subject="system:rotate-secret-key")


@dataclass
class ReencryptCounts:
    apis_seen: int = 0
    keys_reencrypted: int = 0
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
        for doc in await self.list():
            counts.apis_seen += 1
            if self._stale_names(doc):
                await self._reseal(doc["_id"], counts)
        return counts

    async def _reseal(self, api_id: str, counts: ReencryptCounts) -> None:
        written: list[int] = []  # keys resealed by the attempt that was written

        async def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
            resealed = self._resealed(doc)
            written[:] = [len(resealed)]
            return await self._reseal_update(doc, resealed)

        try:
            _, events = await self._apply(api_id, change, CALLER)
        except (_NothingToReseal, NotFound):  # moved on, or deleted, since the scan
            return
        counts.keys_reencrypted += written[0]
        counts.apis_redeployed += len(events)

    async def _reseal_update(
        self, doc: Doc, resealed: dict[str, str]
    ) -> tuple[dict[str, Any], list[EventPayload]]:
        if not resealed:
            raise _NothingToReseal
        after = _with_ciphertexts(doc, resealed)
        sets: dict[str, Any] = {
            f"backend_security.{name}.ciphertext": c for name, c in resealed.items()
        }
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
        sealed = doc.get("backend_security") or {}
        return [k for k, v in sealed.items() if v and not self._box.is_current(v["ciphertext"])]

    def _resealed(self, doc: Doc) -> dict[str, str]:
        """name -> the provider key, decrypted under its old key, sealed under the current."""
        resealed = {}
        for name in self._stale_names(doc):
            context = provider_key_context(doc["_id"], name)
            plain = self._box.decrypt(doc["backend_security"][name]["ciphertext"], context)
            resealed[name] = self._box.encrypt(plain, context)
        return resealed


def _with_ciphertexts(doc: Doc, resealed: dict[str, str]) -> Doc:
    security = {**doc["backend_security"]}
    for name, ciphertext in resealed.items():
        security[name] = {**security[name], "ciphertext": ciphertext}
    return {**doc, "backend_security": security}
