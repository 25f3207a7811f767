"""Master-key rotation (`make rotate-secret-key`): every stored provider key resealed under
the current master key, and each deployed API redeployed with the new ciphertexts."""

import logging
from dataclasses import dataclass

from aigw.common.actor import Actor
from aigw.common.errors import InvalidInput, NotFound
from aigw.common.events import ApiDeployed
from aigw.common.ids import utcnow_ms
from aigw.common.mongo import Update
from aigw.publisher.apis import provider_keys
from aigw.publisher.apis.changes import ApiChanges, Payloads
from aigw.publisher.apis.events import deployed
from aigw.publisher.apis.repository import KeyEntry, StoredApi

log = logging.getLogger(__name__)

# Who a master-key rotation acts as: an admin, so every API.
ROTATION = Actor(subject="system:rotate-secret-key", admin=True)


@dataclass
class ReencryptCounts:
    apis_seen: int = 0
    keys_reencrypted: int = 0  # of which migrated to origin-bound associated data:
    keys_bound_to_origin: int = 0
    apis_redeployed: int = 0


class _NothingToReseal(Exception):
    """The document moved to the current key between the scan and the write."""


class ProviderKeyRotation(ApiChanges):
    async def reencrypt_provider_keys(self) -> ReencryptCounts:
        """Reseal every provider key under the current master key (`make rotate-secret-key`),
        production's, sandbox's and each additional endpoint's; keys sealed before origins
        were bound (associated data of API id and endpoint name only) are resealed for the
        origin of their endpoint's URL too, even under the current master key. Each API is
        one conditional write: the new ciphertexts and, for a deployed API, a new revision
        whose ApiDeployed event (carrying them) is staged with them, so gateways stop needing
        the old key. A concurrent change or a half-done run never leaves a mixed state; a
        rerun finds nothing left to do."""
        counts = ReencryptCounts()
        for doc in await self.list(ROTATION):
            counts.apis_seen += 1
            if provider_keys.stale(doc, self._box):
                await self._reseal(doc["_id"], counts)
        return counts

    async def _reseal(self, api_id: str, counts: ReencryptCounts) -> None:
        written: list[int] = []  # keys resealed (and of those, legacy) by the attempt written

        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            resealed = self._resealed(doc)
            legacy = [name for name in resealed if "origin" not in doc["backend_security"][name]]
            written[:] = [len(resealed), len(legacy)]
            return await self._reseal_update(doc, resealed)

        try:
            _, events = await self._apply(api_id, change, ROTATION)
        except (_NothingToReseal, NotFound):  # moved on, or deleted, since the scan
            return
        counts.keys_reencrypted += written[0]
        counts.keys_bound_to_origin += written[1]
        counts.apis_redeployed += len(events)

    async def _reseal_update(
        self, doc: StoredApi, resealed: dict[str, KeyEntry]
    ) -> tuple[Update, Payloads]:
        if not resealed:
            raise _NothingToReseal
        after: StoredApi = {**doc, "backend_security": {**doc["backend_security"], **resealed}}
        sets: Update = {f"backend_security.{name}": e for name, e in resealed.items()}
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

    def _resealed(self, doc: StoredApi) -> dict[str, KeyEntry]:
        """name -> the provider key, opened with the context it was sealed with, sealed under
        the current master key for the origin of the endpoint's URL."""
        return {
            name: provider_keys.sealed(
                doc, name, provider_keys.opened(doc, name, self._box), self._box
            )
            for name in provider_keys.stale(doc, self._box)
        }

    async def _snapshot(self, doc: StoredApi, revision: int) -> ApiDeployed:
        """The revision as the gateway gets it, with the vendor's definition as it is now:
        a vendor changed later reaches the API at its next deploy."""
        vendor = await self._vendor(doc["vendor"]["name"], doc["vendor"]["version"])
        return deployed(doc, revision, vendor)
