"""DynamoDB store: one table, single-table design, newest-first reads through the by-epoch GSI.

The store is one class made of its parts, one file each: the memories' writes
(dynamodb_writes: put with its dedup claim, update, delete), their reads (dynamodb_reads: by id
and by the by-epoch index, page by page), the records (dynamodb_records: Store.records_*), the
items' wire format (dynamodb_items) and the search index (dynamodb_index, imported by the first
write or search only). This file holds the table's client and the one call every part makes.

DynamoDB is spoken to with signed HTTPS from the standard library (`..aws.client`), not boto3:
the SDK's import was most of a cold start at a 512 MB function's CPU share (bench/deployed_path.py).
"""

from __future__ import annotations

from functools import cached_property

from .. import names
from ..aws.client import AwsError, AwsJsonClient, AwsUnreachable
from ..errors import Unavailable
from ..model import Memory
from .dynamodb_items import conditional_failed, table_definition
from .dynamodb_reads import MemoryReads
from .dynamodb_records import Records
from .dynamodb_writes import MemoryWrites

__all__ = ["DynamoStore", "table_definition"]

_UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}


def dynamodb_client(**options) -> AwsJsonClient:
    # One retry: clients retry 503s themselves, and retries multiply (bench/RESULTS.md, outage).
    settings = {"connect_timeout": 2.0, "read_timeout": 5.0, "max_attempts": 2, "deadline_s": 10.0} | options
    return AwsJsonClient("dynamodb", "DynamoDB_20120810", "1.0", **settings)


class DynamoStore(MemoryWrites, MemoryReads, Records):
    in_process = False  # every call waits on the network: the local server stays parallel

    def __init__(self, table_name: str, client: AwsJsonClient | None = None):
        self.table = table_name
        try:
            self.client = client or dynamodb_client()
        except AwsUnreachable as exc:  # no region or credentials: a configuration fault
            raise Unavailable(f"the memory store cannot be reached ({exc})", retry_after=60) from None
        # Counted for tests and benchmarks: what answering a read cost, in items DynamoDB read.
        self.last_scanned_count = 0

    def close(self) -> None:
        self.client.close()

    @cached_property
    def index(self):
        """The search index (dynamodb_index), imported by the first write or search only."""
        from .dynamodb_index import DynamoIndex

        return DynamoIndex(self)

    @cached_property
    def band_reads(self):
        """The band items a write's similar check read, for its put (dynamodb_similar.BandReads)."""
        from .dynamodb_similar import BandReads

        return BandReads()

    def _call(self, operation: str, **params):
        """Run one DynamoDB call on the table; throttling and outages become Unavailable (503)."""
        return self._send(operation, {"TableName": self.table, **params})

    def _call_if(self, operation: str, **params) -> bool:
        """Run one conditional call on the table; False when its ConditionExpression failed."""
        try:
            self._call(operation, **params)
        except AwsError as exc:
            if not conditional_failed(exc):
                raise
            return False
        return True

    def _send(self, operation: str, params: dict):
        try:
            return self.client.call(operation, params)
        except AwsError as exc:
            if exc.code in _UNAVAILABLE_CODES or exc.status >= 500:
                raise Unavailable("the memory store is busy; retry in a moment") from None
            raise
        except AwsUnreachable:
            raise Unavailable("the memory store cannot be reached; retry in a moment") from None

    # --- the search index (dynamodb_index) ----------------------------------------------------

    def index_stats(self, namespace: str):
        """(IndexStats, generation), after building what a bounded time allows when the index
        is not ready (a namespace from before it, a new INDEX_VERSION); None if still not."""
        got = self.index.read_stats(namespace)
        if got is None:
            import time

            self.index.rebuild(namespace, restart=False, deadline_s=time.monotonic() + names.INDEX_BUILD_STEP_S)
            got = self.index.read_stats(namespace)
        return got

    def index_postings(self, namespace, term, *, generation, after, limit, now_s):
        return self.index.postings(namespace, term, generation=generation, after=after, limit=limit, now_s=now_s)

    def unindexed(self, namespace: str, *, generation: int, now_s: float) -> list[Memory]:
        return self.index.unindexed(namespace, generation=generation, now_s=now_s)

    def reindex(self, namespace: str, *, restart: bool, deadline_s: float) -> dict:
        return self.index.rebuild(namespace, restart=restart, deadline_s=deadline_s)

    def similar_members(self, namespace: str, terms, *, now_s: float) -> list[tuple[str, list[int], str]]:
        """The memories sharing a near-duplicate band with these terms, as (id, term hashes,
        excerpt): one BatchGetItem (dynamodb_similar.members)."""
        from .dynamodb_similar import members

        return members(self, namespace, terms, now_s=now_s)
