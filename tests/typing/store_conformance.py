"""Checked by mypy in `make lint`, never run: both stores conform to the Store protocol."""

from glyphmemory.store import Store
from glyphmemory.stores.dynamodb import DynamoStore
from glyphmemory.stores.sqlite import SqliteStore


def both(sqlite: SqliteStore, dynamodb: DynamoStore) -> list[Store]:
    return [sqlite, dynamodb]
