"""Two fixes to mongoeco (the embedded store of `make run` and the tests), applied by
`aigw.devtools.mongo_server` before it serves.

Without them every write to a collection costs time in proportion to its size, so the store
slows down as usage records pile up: measured on the in-memory engine, 1,000 inserts into a
collection of 10,000 documents took 24 s, and key revocations in `make bench` stalled for
seconds behind the usage records of its own polling.

- Inserting a document checks for a duplicate `_id` by reading every stored document, even
  though the stored documents are keyed by `_id`. The key lookup is enough unless the `_id`
  holds a number (1 and 1.0 are equal ids with different keys), and mongoeco still scans for
  those.
- A query on `_id` looks the key up but, when nothing is stored under it, falls back to
  reading every document. For a string or ObjectId `_id` compared without a collation,
  equality is key equality, so a missed lookup means no match. (An upsert of a new document
  scanned this way.)
- The SQLite engine, before translating a query on a field, asks whether any stored document
  holds an array there, by reading every document; the answer is cached until the next write.
  For `_id` the answer is always no (MongoDB refuses array ids), so it is not asked.

Production runs on MongoDB; these only touch the embedded store. mongoeco is pinned to the
version these were written against, and `tests/devtools` checks the semantics they keep
(duplicates refused, numeric ids still equal, upserts insert once).
"""

import functools
from collections.abc import Callable
from typing import Any

from bson import ObjectId
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine

_KEY_IS_IDENTITY = (str, ObjectId)


def _without_payload_scan(check: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(check)
    def patched(*args: Any, scan_payload_id: bool = False, **kwargs: Any) -> None:
        # numeric ids are still scanned for: the check does that on its own
        return check(*args, scan_payload_id=False, **kwargs)

    return patched


def _id_miss_is_final(
    candidates: Callable[..., list[tuple[Any, Any]]],
) -> Callable[..., list[tuple[Any, Any]]]:
    @functools.wraps(candidates)
    def patched(
        self: MemoryEngine, coll: dict[Any, Any], query_plan: Any, **kwargs: Any
    ) -> list[tuple[Any, Any]]:
        wanted = self._direct_id_lookup_from_plan(query_plan)
        if (
            kwargs.get("collation") is None  # a collation may equate other keys ("a", "A")
            and isinstance(wanted, _KEY_IS_IDENTITY)
            and self._storage_key(wanted) not in coll
        ):
            return []
        return candidates(self, coll, query_plan, **kwargs)

    return patched


def _id_is_never_an_array(probe: Callable[..., bool]) -> Callable[..., bool]:
    @functools.wraps(probe)
    def patched(self: SQLiteEngine, db_name: str, coll_name: str, field: str) -> bool:
        return False if field == "_id" else probe(self, db_name, coll_name, field)

    return patched


def apply() -> None:
    """Idempotent."""
    if getattr(MemoryEngine, "_aigw_patched", False):
        return
    MemoryEngine._ensure_unique_indexes = _without_payload_scan(  # type: ignore[method-assign]
        MemoryEngine._ensure_unique_indexes
    )
    SQLiteEngine._validate_document_against_unique_indexes = _without_payload_scan(  # type: ignore[method-assign]
        SQLiteEngine._validate_document_against_unique_indexes
    )
    MemoryEngine._candidate_items_for_plan_locked = _id_miss_is_final(  # type: ignore[method-assign]
        MemoryEngine._candidate_items_for_plan_locked
    )
    SQLiteEngine._field_is_top_level_array_in_collection = _id_is_never_an_array(  # type: ignore[method-assign]
        SQLiteEngine._field_is_top_level_array_in_collection
    )
    MemoryEngine._aigw_patched = True  # type: ignore[attr-defined]
