"""Store implementations, one module each, behind the glyphmemory.store.Store protocol."""

from __future__ import annotations

from .. import names
from ..errors import InvalidInput


def open_store(url: str):
    """sqlite:///abs/path.db or dynamodb://TABLE (AWS_ENDPOINT_URL_DYNAMODB is honoured)."""
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite://"))
    if url.startswith("dynamodb://") and len(url) > len("dynamodb://"):
        from .dynamodb import DynamoStore

        return DynamoStore(url.removeprefix("dynamodb://"))
    raise InvalidInput(f"{names.ENV_STORE} must be sqlite:///absolute/path.db or dynamodb://TABLE_NAME")
