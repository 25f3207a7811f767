"""Re-encrypt the sealed signing private keys under the current master key.

Walks every document of the signing-key collection for `{"kid", "sealed_private_key"}`
entries wherever they sit (the active key today; retired or next keys if rotation keeps
them), so the store layout may grow without this command changing. Each entry is resealed
with one update conditioned on its old ciphertext: a concurrent change wins, a rerun finds
nothing left to do.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.crypto import SecretBox
from aigw.keymanager.signing.keys import SigningKey
from aigw.keymanager.signing.repository import COLLECTION

SEALED = "sealed_private_key"


@dataclass
class SigningKeyCounts:
    keys_seen: int = 0
    keys_reencrypted: int = 0


async def reencrypt_signing_keys(
    db: AsyncDatabase[dict[str, Any]], box: SecretBox
) -> SigningKeyCounts:
    counts = SigningKeyCounts()
    coll = db[COLLECTION]
    async for doc in coll.find({}):
        for path, entry in _sealed_entries(doc):
            counts.keys_seen += 1
            if box.is_current(entry[SEALED]):
                continue
            resealed = SigningKey.unseal(entry["kid"], entry[SEALED], box).seal(box)
            field = f"{path}.{SEALED}" if path else SEALED
            result = await coll.update_one(
                {"_id": doc["_id"], field: entry[SEALED]}, {"$set": {field: resealed}}
            )
            counts.keys_reencrypted += result.modified_count
    return counts


def _sealed_entries(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path, entry) for every sealed signing key inside a document."""
    if isinstance(node, dict):
        if isinstance(node.get(SEALED), str) and isinstance(node.get("kid"), str):
            yield path, node
        children: Iterator[tuple[str, Any]] = iter(node.items())
    elif isinstance(node, list):
        children = ((str(i), v) for i, v in enumerate(node))
    else:
        return
    for key, child in children:
        yield from _sealed_entries(child, f"{path}.{key}" if path else key)
