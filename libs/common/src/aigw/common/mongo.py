"""MongoDB wiring: one `AsyncMongoClient` per service process, one database per service."""

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

Document = dict[str, Any]  # untyped: a raw document, a query, or an update
# An update document ($set, $unset, $inc, $push ...): dotted paths, so untyped too.
Update = Document


def create_client(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        url, serverSelectionTimeoutMS=5000, tz_aware=True, uuidRepresentation="standard"
    )


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except PyMongoError:
        return False
    return True
