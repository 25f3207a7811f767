"""Re-encrypt provider keys under the current master key (`make rotate-secret-key`).

Each API is one conditional write through the service's own `_apply`: the new ciphertexts
and, for a deployed API, a new revision whose ApiDeployed event (carrying the new
ciphertexts) is staged in the same write. The write is conditioned on the document version
read, so a concurrent change or a half-done run never leaves a mixed state; a rerun finds
nothing left to do. Gateways learn the new revision from the stream and stop needing the
old key for it.
"""

from dataclasses import dataclass
from typing import Any

from aigw.common.crypto import provider_key_context
from aigw.common.errors import NotFound
from aigw.common.events import EventPayload
from aigw.common.ids import utcnow_ms
from aigw.publisher.apis.repository import Doc
from aigw.publisher.apis.service import ApiService, Caller

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

    async def reencrypt_all(self) -> ReencryptCounts:
        counts = ReencryptCounts()
        for doc in await self.list():
            counts.apis_seen += 1
            if self._stale_kinds(doc):
                await self._reseal(doc["_id"], counts)
        return counts

    async def _reseal(self, api_id: str, counts: ReencryptCounts) -> None:
        written: list[int] = []  # keys resealed by the attempt that was written

        def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
            resealed = self._resealed(doc)
            written[:] = [len(resealed)]
            return self._reseal_update(doc, resealed)

        try:
            _, events = await self._apply(api_id, change, CALLER)
        except (_NothingToReseal, NotFound):  # moved on, or deleted, since the scan
            return
        counts.keys_reencrypted += written[0]
        counts.apis_redeployed += len(events)

    def _reseal_update(
        self, doc: Doc, resealed: dict[str, str]
    ) -> tuple[dict[str, Any], list[EventPayload]]:
        if not resealed:
            raise _NothingToReseal
        after = _with_ciphertexts(doc, resealed)
        sets: dict[str, Any] = {
            f"backend_security.{kind}.ciphertext": c for kind, c in resealed.items()
        }
        if doc.get("deployed_revision") is None:
            return {"$set": sets}, []
        # Redeploy, so gateways get the new ciphertexts (deploy's own change, same write).
        revision = doc["revision"] + 1
        sets |= {"deployed_revision": revision, "deployed_time": utcnow_ms()}
        return {"$inc": {"revision": 1}, "$set": sets}, [self._snapshot(after, revision)]

    def _stale_kinds(self, doc: Doc) -> list[str]:
        sealed = doc.get("backend_security") or {}
        return [k for k, v in sealed.items() if v and not self._box.is_current(v["ciphertext"])]

    def _resealed(self, doc: Doc) -> dict[str, str]:
        """kind -> the provider key, decrypted under its old key, sealed under the current."""
        resealed = {}
        for kind in self._stale_kinds(doc):
            context = provider_key_context(doc["_id"], kind)
            plain = self._box.decrypt(doc["backend_security"][kind]["ciphertext"], context)
            resealed[kind] = self._box.encrypt(plain, context)
        return resealed


def _with_ciphertexts(doc: Doc, resealed: dict[str, str]) -> Doc:
    security = {**doc["backend_security"]}
    for kind, ciphertext in resealed.items():
        security[kind] = {**security[kind], "ciphertext": ciphertext}
    return {**doc, "backend_security": security}
