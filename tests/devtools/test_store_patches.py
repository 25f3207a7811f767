"""The embedded store's patches (aigw.devtools.store_patches) keep MongoDB's semantics for `_id`:
duplicates refused (numeric ids compared by value), upserts idempotent, missed lookups empty.
Run against the session's store and against a SQLite-backed store of its own."""

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from mongoeco import AsyncMongoClient as EcoClient
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.collation import Collation
from pymongo.errors import BulkWriteError, DuplicateKeyError

from aigw.devtools import store_patches
from aigw.devtools.processes import free_port, mongo_store
from tests.support.infra import Infra

pytestmark = pytest.mark.integration

Doc = dict[str, Any]


@contextlib.contextmanager
def embedded_store(workdir: Path, sqlite: bool) -> Iterator[str]:
    store = mongo_store(free_port(), workdir / "store.db" if sqlite else None, workdir / "log")
    store.start()
    try:
        store.wait_ready()
        yield f"mongodb://127.0.0.1:{store.port}/?directConnection=true"
    finally:
        store.stop()


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with embedded_store(Path(tmp_path_factory.mktemp("sqlite-store")), sqlite=True) as url:
        yield url


@pytest.fixture(scope="module")
def memory_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with embedded_store(Path(tmp_path_factory.mktemp("memory-store")), sqlite=False) as url:
        yield url


@pytest.fixture(params=["session store", "memory store", "sqlite store"])
async def collection(
    request: pytest.FixtureRequest, infra: Infra, memory_store: str, sqlite_store: str
) -> AsyncIterator[AsyncCollection[Doc]]:
    """The session's store may be a real MongoDB (MONGODB_URL, Docker): the two embedded
    engines are started here, so the patched code always runs."""
    urls = {"session store": infra.mongodb_url, "memory store": memory_store}
    url = urls.get(request.param, sqlite_store)
    client: AsyncMongoClient[Doc] = AsyncMongoClient(url)
    try:
        yield client[f"patches_{uuid.uuid4().hex[:8]}"]["docs"]
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("a", "a"),
        (ObjectId("65a1b2c3d4e5f60718293a4b"), ObjectId("65a1b2c3d4e5f60718293a4b")),
        (1, 1.0),
        ({"k": 2}, {"k": 2.0}),
    ],
    ids=["string", "ObjectId", "int and float", "numeric inside a document"],
)
async def test_a_duplicate_id_is_refused(collection, first, second):
    await collection.insert_one({"_id": first, "n": 1})
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"_id": second, "n": 2})
    with pytest.raises(BulkWriteError):
        await collection.insert_many([{"_id": "fresh"}, {"_id": second}], ordered=True)
    assert await collection.count_documents({}) == 2  # the first and "fresh"
    assert (await collection.find_one({"_id": first}))["n"] == 1


async def test_equal_looking_ids_of_other_types_are_distinct(collection):
    await collection.insert_many([{"_id": "1"}, {"_id": 1}, {"_id": ObjectId()}])
    assert await collection.count_documents({}) == 3


async def test_an_upsert_inserts_once(collection):
    ops = [UpdateOne({"_id": f"r{i}"}, {"$setOnInsert": {"i": i}}, upsert=True) for i in range(5)]
    assert (await collection.bulk_write(ops, ordered=False)).upserted_count == 5
    assert (await collection.bulk_write(ops, ordered=False)).upserted_count == 0
    assert await collection.count_documents({}) == 5
    changed = await collection.update_one({"_id": "r2"}, {"$set": {"seen": True}}, upsert=True)
    assert (changed.matched_count, changed.upserted_id) == (1, None)
    assert await collection.find_one({"_id": "r2"}) == {"_id": "r2", "i": 2, "seen": True}


async def test_a_missed_id_lookup_finds_nothing(collection):
    await collection.insert_many([{"_id": "x", "v": 1}, {"_id": 7, "v": 2}])
    assert await collection.find_one({"_id": "y"}) is None
    assert await collection.find_one({"_id": ObjectId()}) is None
    assert await collection.find_one({"_id": "x", "v": 2}) is None
    assert await collection.find_one({"_id": "x", "v": 1}) == {"_id": "x", "v": 1}
    assert await collection.find_one({"_id": 7.0}) == {"_id": 7, "v": 2}  # numeric: by value
    assert (await collection.update_one({"_id": "y"}, {"$set": {"v": 3}})).matched_count == 0
    assert (await collection.delete_one({"_id": "y"})).deleted_count == 0
    caseless = Collation(locale="en", strength=2)  # equal ids under another key: "X" is "x"
    assert await collection.count_documents({"_id": "X"}, collation=caseless) == 1
    assert await collection.find_one({"_id": "X"}, collation=caseless) == {"_id": "x", "v": 1}


async def test_writes_and_missed_lookups_do_not_read_the_whole_collection(monkeypatch):
    """In process, on the in-memory engine: how many stored documents one insert and one
    missed `_id` lookup read, with 300 documents stored (each read them all before)."""
    store_patches.apply()
    client: EcoClient = EcoClient(MemoryEngine())
    collection = client["patches"]["docs"]
    await collection.insert_many([{"_id": f"d{i}", "i": i} for i in range(300)])
    reads = 0
    borrow = MemoryEngine._borrow_storage_document

    def counted(self: MemoryEngine, data: Any) -> Any:
        nonlocal reads
        reads += 1
        return borrow(self, data)

    monkeypatch.setattr(MemoryEngine, "_borrow_storage_document", counted)
    await collection.insert_one({"_id": "new", "i": -1})
    assert await collection.find_one({"_id": "missing"}) is None
    await collection.update_one({"_id": "also-new"}, {"$set": {"i": -2}}, upsert=True)
    assert reads < 10
    assert await collection.count_documents({}) == 302


def test_the_patched_methods_still_exist_in_mongoeco():
    """An upgrade of mongoeco that renames what the patches wrap fails here, not silently."""
    store_patches.apply()
    store_patches.apply()  # idempotent: wrapped once
    for method in (
        MemoryEngine._ensure_unique_indexes,
        MemoryEngine._candidate_items_for_plan_locked,
        SQLiteEngine._validate_document_against_unique_indexes,
        SQLiteEngine._field_is_top_level_array_in_collection,
    ):
        assert hasattr(method, "__wrapped__")
        assert not hasattr(method.__wrapped__, "__wrapped__")
