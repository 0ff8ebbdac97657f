"""The DynamoDB store's reads: a memory by id, a few by id, and the by-epoch index newest first
(or oldest first) page by page, with the expiry and tag filters."""

from __future__ import annotations

from .. import names
from ..model import Cursor, Memory, Page
from .dynamodb_items import memory_from_attrs, memory_key

FOLLOWING_READS = 3  # items `following` reads at most, skipping expired ones


class MemoryReads:
    """DynamoStore's reads (a mixin: it uses the store's table, _call and _send, and counts
    what a read cost in last_scanned_count)."""

    def get(self, memory_id: str, *, now_s: float) -> Memory | None:
        got = self._call("GetItem", Key=memory_key(memory_id), ConsistentRead=True).get("Item")
        if got is None:
            return None
        memory = memory_from_attrs(got)
        return None if memory.is_expired(now_s) else memory

    def _query_pages(self, namespace, *, now_s, before, tag, since_us, page_size, count_only=False, forward=False):
        """Yield Query responses on by-epoch, newest first (oldest first if `forward`), from just
        past `before`."""
        names_map = {"#ns": names.GSI_PARTITION, "#exp": names.TTL_ATTRIBUTE}
        values = {":ns": {"S": namespace}, ":now": {"N": str(int(now_s))}}
        key_condition = "#ns = :ns"
        if since_us is not None:
            key_condition += " AND #e >= :since"
            names_map["#e"] = names.GSI_SORT
            values[":since"] = {"N": str(since_us)}
        # Local emulators never run TTL, and real TTL deletes lazily: filter on expiry always.
        filters = ["(attribute_not_exists(#exp) OR #exp > :now)"]
        if tag is not None:
            filters.append("contains(#tags, :tag)")
            names_map["#tags"] = "tags"
            values[":tag"] = {"S": tag}
        kwargs = {
            "IndexName": names.GSI_BY_EPOCH,
            "KeyConditionExpression": key_condition,
            "FilterExpression": " AND ".join(filters),
            "ExpressionAttributeNames": names_map,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        if count_only:
            kwargs["Select"] = "COUNT"
        start = None
        if before is not None:
            start = {
                **memory_key(before.id),
                names.GSI_PARTITION: {"S": namespace},
                names.GSI_SORT: {"N": str(before.epoch_us)},
            }
        while True:
            kwargs["Limit"] = page_size()
            if start is not None:
                kwargs["ExclusiveStartKey"] = start
            response = self._call("Query", **kwargs)
            self.last_scanned_count += response.get("ScannedCount", 0)
            yield response
            start = response.get("LastEvaluatedKey")
            if start is None:
                return

    def namespaces(self, *, now_s, limit) -> list[str]:
        """A Scan of the sparse by-epoch index (memories only), projecting the namespace: it
        reads every memory, so callers ask rarely (MCP completion, cached a minute)."""
        kwargs = {
            "IndexName": names.GSI_BY_EPOCH,
            "ProjectionExpression": "#ns",
            "FilterExpression": "attribute_not_exists(#exp) OR #exp > :now",
            "ExpressionAttributeNames": {"#ns": names.GSI_PARTITION, "#exp": names.TTL_ATTRIBUTE},
            "ExpressionAttributeValues": {":now": {"N": str(int(now_s))}},
        }
        found: set[str] = set()
        while True:
            response = self._call("Scan", **kwargs)
            self.last_scanned_count += response.get("ScannedCount", 0)
            found.update(item[names.GSI_PARTITION]["S"] for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return sorted(found)[:limit]
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def recent(self, namespace, *, limit, now_s, before=None, tag=None, since_us=None) -> Page:
        self.last_scanned_count = 0
        wanted = limit + 1  # one more tells whether there is a next page
        items: list[Memory] = []

        def page_size() -> int:
            # Without a tag filter nearly every item read is kept: ask for exactly what is
            # missing, so "N most recent" reads N+1 items however large the table is.
            missing = wanted - len(items)
            return missing if tag is None else max(missing, 100)

        for response in self._query_pages(
            namespace, now_s=now_s, before=before, tag=tag, since_us=since_us, page_size=page_size
        ):
            items.extend(memory_from_attrs(a) for a in response.get("Items", []))
            if len(items) >= wanted:
                break
        page = items[:limit]
        more = len(items) > limit
        return Page(page, Cursor(page[-1].epoch_us, page[-1].id) if more else None)

    def following(self, namespace, *, after, now_s) -> Memory | None:
        # One item a page: the next one in time (an expired one is filtered and the next read,
        # up to FOLLOWING_READS items, so a run of expired memories costs a bounded search).
        self.last_scanned_count = 0
        pages = self._query_pages(
            namespace, now_s=now_s, before=after, tag=None, since_us=None, page_size=lambda: 1, forward=True
        )
        for _, response in zip(range(FOLLOWING_READS), pages, strict=False):
            if response.get("Items"):
                return memory_from_attrs(response["Items"][0])
        return None

    def count_older(self, namespace, *, before, now_s, cap) -> int:
        self.last_scanned_count = 0
        count = 0
        for response in self._query_pages(
            namespace,
            now_s=now_s,
            before=before,
            tag=None,
            since_us=None,
            page_size=lambda: max(cap - count, 1),  # noqa: B023 (read at each page: what is still missing)
            count_only=True,
        ):
            count += response.get("Count", 0)
            if count >= cap:
                return cap
        return count

    def get_many(self, memory_ids: list[str], *, now_s: float) -> dict[str, Memory]:
        """The unexpired memories of these ids (eventually consistent reads: half the units)."""
        out: dict[str, Memory] = {}
        keys = [memory_key(i) for i in dict.fromkeys(memory_ids)]
        for _ in range(6):
            if not keys:
                break
            response = self._send("BatchGetItem", {"RequestItems": {self.table: {"Keys": keys[:100]}}})
            for item in response.get("Responses", {}).get(self.table, []):
                memory = memory_from_attrs(item)
                if not memory.is_expired(now_s):
                    out[memory.id] = memory
            keys = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", []) + keys[100:]
        return out
