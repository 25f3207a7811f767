"""`make rotate-secret-key`: re-encrypt every secret at rest under the new master key.

Run with AIGW_SECRET_KEY=<new>, AIGW_PREVIOUS_SECRET_KEYS=<old[,older]>, MONGODB_URL, NATS_URL,
and the publisher's NATS_SEED_FILE and AIGW_TRUST_FILE (the publisher stages a new ApiDeployed revision per deployed API and publishes it).
Database names follow the services' PUBLISHER_MONGODB_DB / KEYMANAGER_MONGODB_DB.
Every write is per document and conditional, so the command can be rerun safely.
"""

import asyncio
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from aigw.common.mongo import create_client
from aigw.common.runtime import ServiceRuntime
from aigw.common.settings import DatabaseSettings, setting
from aigw.common.startup import load_settings
from aigw.keymanager.signing.repository import SigningKeyRepository
from aigw.keymanager.signing.service import SigningKeyCounts, SigningKeyService
from aigw.publisher.apis.repository import COLLECTION as APIS
from aigw.publisher.apis.repository import ApiRepository
from aigw.publisher.apis.rotation import ReencryptCounts
from aigw.publisher.apis.service import ApiService
from aigw.publisher.vendors.catalog import VendorCatalog
from aigw.publisher.vendors.repository import VendorRepository


class RotateSettings(DatabaseSettings):
    # it re-deploys APIs, which only the publisher may announce: run it with the publisher's
    # NATS_SEED_FILE
    IDENTITY = "publisher"

    publisher_db: str = setting("aigw_publisher", "PUBLISHER_MONGODB_DB")
    keymanager_db: str = setting("aigw_keymanager", "KEYMANAGER_MONGODB_DB")


@dataclass
class RotationReport:
    provider_keys: ReencryptCounts
    signing_keys: SigningKeyCounts
    events_pending: int  # staged ApiDeployed events not yet on the stream (relay retries)

    def lines(self) -> list[str]:
        report: dict[str, Any] = {
            **{f"provider_keys.{k}": v for k, v in asdict(self.provider_keys).items()},
            **{f"signing_keys.{k}": v for k, v in asdict(self.signing_keys).items()},
            "events_pending": self.events_pending,
        }
        return [f"{name}: {value}" for name, value in report.items()]


async def rotate(settings: RotateSettings) -> RotationReport:
    provider_keys, pending = await _reencrypt_publisher(settings)
    signing_keys = await _reencrypt_keymanager(settings)
    return RotationReport(provider_keys, signing_keys, pending)


async def _reencrypt_publisher(settings: RotateSettings) -> tuple[ReencryptCounts, int]:
    box = settings.secret_box()
    runtime = ServiceRuntime(settings, database=settings.publisher_db, outbox_collections=[APIS])
    async with runtime:
        # a redeploy needs the vendors of the APIs, the custom ones too
        vendors = VendorCatalog(VendorRepository(runtime.db))
        service = ApiService(ApiRepository(runtime.db), runtime.outbox, box, vendors)
        counts = await service.reencrypt_provider_keys()
        await runtime.outbox.sweep()  # publish anything a failed immediate flush left staged
        pending = await runtime.outbox.sweep()
    return counts, pending


async def _reencrypt_keymanager(settings: RotateSettings) -> SigningKeyCounts:
    client = create_client(settings.mongodb_url)
    try:
        repo = SigningKeyRepository(client[settings.keymanager_db])
        # no outbox: resealing a key changes no public key, so nothing is announced
        return await SigningKeyService(repo, settings.secret_box(), None, timedelta(0)).reencrypt()
    finally:
        await client.close()


def main() -> None:
    settings = load_settings(RotateSettings)
    if not settings.previous_secret_keys.strip():
        print("note: AIGW_PREVIOUS_SECRET_KEYS is empty; only current-key ciphertexts can be read")
    report = asyncio.run(rotate(settings))
    print(f"re-encrypted under key id {settings.secret_box().kid}")
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
