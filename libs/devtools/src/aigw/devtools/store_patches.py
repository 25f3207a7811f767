"""Fixes to mongoeco (the embedded store of `make run` and the tests), applied by
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
- The wire protocol's `insert` command (what every driver's `insert_many` sends) inserts its
  documents one `insert_one` at a time: a commit, a worker thread and the change-stream
  bookkeeping per document. mongoeco's own `insert_many` writes the batch at once (one
  transaction): measured on the SQLite engine, 1,700 µs of CPU per usage record one at a time,
  550 µs in batches of 200. The command now hands its documents to `insert_many` and answers
  with the same per-document write errors (the index and code of each duplicate).
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
from mongoeco._types.documents import WriteCommandResult, WriteErrorEntry
from mongoeco.api._async._database_admin_write_commands import (
    DatabaseAdminWriteCommandService,
    _write_command_result,
)
from mongoeco.api._async._write_command_validation import write_command_acknowledged
from mongoeco.api._command_bson import command_boolean
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.errors import BulkWriteError

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


async def _insert_as_a_batch(
    self: DatabaseAdminWriteCommandService, spec: dict[str, object], *, session: Any = None
) -> object:
    """`DatabaseAdminWriteCommandService.command_insert`, its documents written by one
    `insert_many` (ordered or not, as asked) rather than one `insert_one` each."""
    admin: Any = self._admin
    collection_name = admin._require_collection_name(spec.get("insert"), "insert")
    documents = admin._normalize_insert_documents(spec.get("documents"))
    ordered = admin._normalize_ordered_from_command(spec.get("ordered"))
    bypass = command_boolean(  # type: ignore[no-untyped-call]
        spec.get("bypassDocumentValidation", False), "bypassDocumentValidation", numeric=True
    )
    acknowledged = write_command_acknowledged(spec, dialect=admin._mongodb_dialect.key)
    collection = admin._database.get_collection(collection_name)
    write_errors: list[WriteErrorEntry] = []
    try:
        result = await collection.insert_many(
            documents, ordered=ordered, bypass_document_validation=bypass, session=session
        )
        inserted = len(result.inserted_ids)
    except BulkWriteError as exc:
        details: dict[str, Any] = dict(getattr(exc, "details", None) or {})
        inserted = int(details.get("nInserted", 0))
        for entry in details.get("writeErrors", []):
            error = dict(entry)
            error.pop("op", None)
            index, message, code = error.pop("index"), error.pop("errmsg"), error.pop("code", None)
            write_errors.append(
                WriteErrorEntry(index=index, errmsg=message, code=code, details=error or None)
            )
    return _write_command_result(
        WriteCommandResult(count=inserted, write_errors=write_errors or None),
        acknowledged=acknowledged,
    )


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
    DatabaseAdminWriteCommandService.command_insert = _insert_as_a_batch  # type: ignore[method-assign]
    MemoryEngine._aigw_patched = True  # type: ignore[attr-defined]
