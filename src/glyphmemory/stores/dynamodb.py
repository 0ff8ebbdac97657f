"""DynamoDB store: one table, single-table design, newest-first reads through the by-epoch GSI.

Dedup uses a claim item per (namespace, content hash) written with a conditional PutItem, then
the memory item. Two single-item writes cost half a TransactWriteItems (which bills twice), and
the claim carries a copy of the memory, so a writer that died between the two puts is repaired
by the next identical write instead of leaving the text unwritable.

DynamoDB is spoken to with signed HTTPS from the standard library (`..aws.client`), not boto3:
the SDK's import was most of a cold start at a 512 MB function's CPU share (bench/deployed_path.py).
"""

from __future__ import annotations

import json
import os
import time
from functools import cached_property

from .. import names, repeat
from ..aws.client import AwsError, AwsJsonClient, AwsUnreachable
from ..errors import Conflict, Unavailable
from ..model import Cursor, Memory, Page, legacy_content_hash
from .dynamodb_items import claim_item, claim_key, memory_attrs, memory_from_attrs, memory_key, table_definition

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


# Each failed attempt means another writer's repeat landed: N writers of one text at once need
# at most N attempts (with the pauses below, 50 at once pass in a test).
_REPEAT_ATTEMPTS = 64


def _cancellation_codes(exc: AwsError) -> list[str]:
    """Why each item of a cancelled transaction failed: CancellationReasons, or (as some
    emulators send it) the list in the message."""
    reasons = exc.body.get("CancellationReasons")
    if isinstance(reasons, list):
        return [str(r.get("Code", "None")) for r in reasons if isinstance(r, dict)]
    listed = exc.message.rpartition("[")[2].rstrip("]")
    return [code.strip() for code in listed.split(",")] if listed else []


def _conditional_failed(exc: AwsError) -> bool:
    return exc.code == "ConditionalCheckFailedException"


def _unchanged(held: Memory) -> tuple[str, dict, dict]:
    """A condition that the memory item still holds what `held` read: its dedup key, tags,
    session and expiry (the fields an edit or a repeat changes). Values :hash, :old_tags,
    :old_session, :old_exp; names #hash, #tags, #session, #exp."""
    attr_names = {"#hash": "content_hash", "#tags": "tags", "#session": "session", "#exp": names.TTL_ATTRIBUTE}
    values = {":hash": {"S": held.content_hash}, ":old_tags": {"L": [{"S": t} for t in held.tags]}}
    parts = ["#hash = :hash", "#tags = :old_tags"]
    for name, value in _optional_fields(held):
        if value is None:
            parts.append(f"attribute_not_exists({name})")
        else:
            parts.append(f"{name} = :old_{name[1:]}")
            values[f":old_{name[1:]}"] = value
    return " AND ".join(parts), attr_names, values


def _optional_fields(memory: Memory) -> list[tuple[str, dict | None]]:
    """The item's attributes that may be absent, as (#name, value or None)."""
    return [
        ("#session", None if memory.session is None else {"S": memory.session}),
        ("#exp", None if memory.expires_at is None else {"N": str(memory.expires_at)}),
    ]


FOLLOWING_READS = 3  # items `following` reads at most, skipping expired ones


class DynamoStore:
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

    def _call(self, operation: str, **params):
        """Run one DynamoDB call on the table; throttling and outages become Unavailable (503)."""
        return self._send(operation, {"TableName": self.table, **params})

    def _send(self, operation: str, params: dict):
        try:
            return self.client.call(operation, params)
        except AwsError as exc:
            if exc.code in _UNAVAILABLE_CODES or exc.status >= 500:
                raise Unavailable("the memory store is busy; retry in a moment") from None
            raise
        except AwsUnreachable:
            raise Unavailable("the memory store cannot be reached; retry in a moment") from None

    # --- writes ----------------------------------------------------------------------------

    def put(self, memory: Memory, *, now_s: float, keep_epoch: bool = False) -> tuple[Memory, repeat.Repeat | None]:
        # keep_epoch only matters where the store itself orders writes (SQLite); here the
        # process clock already gives every fresh write a strictly later epoch.
        for attempt in range(_REPEAT_ATTEMPTS):
            existing = self._legacy_holder(memory, now_s) or self._claim(memory, now_s)
            if existing is None:
                break
            if not self._memory_present_or_repaired(existing, now_s):
                continue
            merged, change = repeat.merge(existing, memory)
            if not change.changed:
                self.index.ensure(existing)  # its writer may have died before indexing it
                return merged, change
            if self._apply_repeat(existing, merged):
                self.index.replace(existing, merged)  # new tags, a new expiry
                return merged, change
            # Another repeat or an edit changed the memory since we read it: read it again, after
            # a random pause that grows, so that many writers at once do not collide in step.
            time.sleep(int.from_bytes(os.urandom(2), "big") / 65535 * 0.005 * (attempt + 1))
        else:
            raise Unavailable("the memory store is changing under this write; retry it")
        if self._put_new({**memory_key(memory.id), **memory_attrs(memory)}):
            self.index.add(memory)
            return memory, None
        held = self.get(memory.id, now_s=now_s)
        if held is not None and (held.namespace, held.content_hash) == (memory.namespace, memory.content_hash):
            # While our put was slow, a writer of the same text found our claim and wrote this
            # memory from it: it is ours, and the claim must stay (releasing it let the next
            # identical write store a second copy).
            return held, None
        # An import brought an id another memory holds: our text is not stored, so its claim goes.
        self._release_claim(memory)
        if held is None:
            raise Unavailable("the memory store is changing under this write; retry it")
        return held, repeat.NOTHING_CHANGED

    def _legacy_holder(self, memory: Memory, now_s: float) -> Memory | None:
        """A live memory stored before model.dedup_form whose claim is under the old key of this
        very text (only looked up when that key differs from the new one: the text has runs of
        whitespace or invisible characters). Look-alikes of such a memory are found once an
        edit (or `_rekey`-style rewrite) moves it to the new key."""
        legacy = legacy_content_hash(memory.namespace, memory.text)
        if legacy == memory.content_hash:
            return None
        claim = self._call("GetItem", Key=claim_key(memory.namespace, legacy), ConsistentRead=True).get("Item")
        if claim is None:
            return None
        holder = memory_from_attrs(claim["memory"]["M"])
        return None if holder.is_expired(now_s) else holder

    def _apply_repeat(self, held: Memory, merged: Memory) -> bool:
        """Write a repeat's changes to the item and its claim (expiry as the claim's TTL too) in
        one transaction, only while the item is still as it was read; False when it is not."""
        condition, attr_names, values = _unchanged(held)
        sets, removes = ["#tags = :tags"], []
        values[":tags"] = {"L": [{"S": t} for t in merged.tags]}
        for name, value in _optional_fields(merged):
            if value is None:
                removes.append(name)
            else:
                sets.append(f"{name} = :{name[1:]}")
                values[f":{name[1:]}"] = value
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._send(
                "TransactWriteItems",
                {
                    "TransactItems": [
                        {
                            "Update": {
                                "TableName": self.table,
                                "Key": memory_key(held.id),
                                "UpdateExpression": expression,
                                "ConditionExpression": condition,
                                "ExpressionAttributeNames": attr_names,
                                "ExpressionAttributeValues": values,
                            }
                        },
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": claim_item(merged),
                                "ConditionExpression": "memory_id = :id",
                                "ExpressionAttributeValues": {":id": {"S": held.id}},
                            }
                        },
                    ]
                },
            )
        except AwsError as exc:
            if exc.code != "TransactionCanceledException":
                raise
            return False
        return True

    def _put_new(self, item: dict) -> bool:
        """PutItem only where no item has this key yet; False when one has."""
        try:
            self._call(
                "PutItem",
                Item=item,
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": names.PK},
            )
        except AwsError as exc:
            if not _conditional_failed(exc):
                raise
            return False
        return True

    def _claim(self, memory: Memory, now_s: float) -> Memory | None:
        """Claim the (namespace, hash) for this memory; None when won, else the holder."""
        claim = claim_item(memory)
        for _ in range(4):
            try:
                self._call(
                    "PutItem",
                    Item=claim,
                    # A claim whose memory expired may be taken over: readers no longer see it.
                    ConditionExpression="attribute_not_exists(#pk) OR #exp <= :now",
                    ExpressionAttributeNames={"#pk": names.PK, "#exp": names.TTL_ATTRIBUTE},
                    ExpressionAttributeValues={":now": {"N": str(int(now_s))}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return None
            except AwsError as exc:
                if not _conditional_failed(exc):
                    raise
                old = exc.body.get("Item") or self._call(
                    "GetItem",
                    Key=claim_key(memory.namespace, memory.content_hash),
                    ConsistentRead=True,
                ).get("Item")
                if old is not None:
                    return memory_from_attrs(old["memory"]["M"])
                # The claim was released between our put and our read: try again.
        raise Unavailable("the memory store is changing under this write; retry it")

    def _memory_present_or_repaired(self, existing: Memory, now_s: float) -> bool:
        """True when the claimed memory is stored (writing it from the claim if its writer died)."""
        got = self._call("GetItem", Key=memory_key(existing.id), ConsistentRead=True).get("Item")
        if got is not None:
            return True
        claim = self._call(
            "GetItem", Key=claim_key(existing.namespace, existing.content_hash), ConsistentRead=True
        ).get("Item")
        if claim is None or claim["memory_id"]["S"] != existing.id:
            return False  # deleted or taken over meanwhile: claim afresh
        self._put_new({**memory_key(existing.id), **memory_attrs(existing)})  # lost race: fine
        return True

    def _release_claim(self, memory: Memory) -> None:
        try:
            self._call(
                "DeleteItem",
                Key=claim_key(memory.namespace, memory.content_hash),
                ConditionExpression="memory_id = :id",
                ExpressionAttributeValues={":id": {"S": memory.id}},
            )
        except AwsError as exc:
            if not _conditional_failed(exc):
                raise

    def update(self, memory_id: str, *, text: str, tags: tuple, content_hash: str, updated_us: int, now_s: float):
        """The item and its claim change in one TransactWriteItems: the new text's claim is taken
        (or the same claim rewritten), the old one released, the item updated only while it
        still holds the text it was read with. Two racing edits, or an edit racing a write of
        the same text, can never leave two memories with one text or a claim naming nothing."""
        for _ in range(4):
            got = self._call("GetItem", Key=memory_key(memory_id), ConsistentRead=True).get("Item")
            current = memory_from_attrs(got) if got is not None else None
            if current is None or current.is_expired(now_s):
                return None
            held_ix = got.get("ix", {}).get("S")  # the index holds the text as it was read
            updated = current.replace(text=text, tags=tuple(tags), content_hash=content_hash, updated_us=updated_us)
            # Only while the item is as read: a repeat may have added tags or moved the expiry,
            # which the claim's copy (and its TTL) written below must not undo.
            condition, attr_names, values = _unchanged(current)
            item = {
                "Update": {
                    "TableName": self.table,
                    "Key": memory_key(memory_id),
                    "UpdateExpression": "SET #text = :text, #tags = :new_tags, #hash = :new_hash, #upd = :upd",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {**attr_names, "#text": "text", "#upd": "updated_us"},
                    "ExpressionAttributeValues": {
                        **values,
                        ":text": {"S": text},
                        ":new_tags": {"L": [{"S": t} for t in tags]},
                        ":new_hash": {"S": content_hash},
                        ":upd": {"N": str(updated_us)},
                    },
                }
            }
            ours = {":id": {"S": memory_id}}
            if content_hash == current.content_hash:  # tags only: the claim's copy follows
                claims = [
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": claim_item(updated),
                            "ConditionExpression": "memory_id = :id",
                            "ExpressionAttributeValues": ours,
                        }
                    }
                ]
            else:
                claims = [
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": claim_item(updated),
                            # A claim whose memory expired may be taken over, as on write.
                            "ConditionExpression": "attribute_not_exists(#pk) OR #exp <= :now",
                            "ExpressionAttributeNames": {"#pk": names.PK, "#exp": names.TTL_ATTRIBUTE},
                            "ExpressionAttributeValues": {":now": {"N": str(int(now_s))}},
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": claim_key(current.namespace, current.content_hash),
                            "ConditionExpression": "attribute_not_exists(#pk) OR memory_id = :id",
                            "ExpressionAttributeNames": {"#pk": names.PK},
                            "ExpressionAttributeValues": ours,
                        }
                    },
                ]
            try:
                self._send("TransactWriteItems", {"TransactItems": [item, *claims]})
                self.index.remove(current, held_ix)
                self.index.add(updated)
                return updated
            except AwsError as exc:
                if exc.code != "TransactionCanceledException":
                    raise
                reasons = _cancellation_codes(exc)
                if content_hash != current.content_hash and len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    holder = self._claim_holder(current.namespace, content_hash, now_s)
                    if holder is not None and holder != memory_id:
                        raise Conflict(f"memory {holder} already holds that text", other_id=holder) from None
                # The item changed or went under us (or the holder just left): read it again.
        raise Unavailable("the memory is changing under this edit; retry it")

    def _claim_holder(self, namespace: str, chash: str, now_s: float) -> str | None:
        """The id of the memory that holds a text, writing it from its claim if its writer died."""
        claim = self._call("GetItem", Key=claim_key(namespace, chash), ConsistentRead=True).get("Item")
        if claim is None:
            return None
        holder = memory_from_attrs(claim["memory"]["M"])
        if holder.is_expired(now_s):
            return None
        self._memory_present_or_repaired(holder, now_s)
        return holder.id

    def delete(self, memory_id: str) -> bool:
        got = self._call("GetItem", Key=memory_key(memory_id), ConsistentRead=True).get("Item")
        if got is None:
            return False
        memory = memory_from_attrs(got)
        self.index.remove(memory, got.get("ix", {}).get("S"))  # a memory the index lost is no harm
        # Claim first: a concurrent identical write then claims afresh instead of repairing.
        self._release_claim(memory)
        try:
            self._call(
                "DeleteItem",
                Key=memory_key(memory_id),
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": names.PK},
            )
        except AwsError as exc:
            if not _conditional_failed(exc):
                raise
            return False
        return True

    # --- reads -----------------------------------------------------------------------------

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

    def reindex(self, namespace: str, *, restart: bool, deadline_s: float) -> dict:
        return self.index.rebuild(namespace, restart=restart, deadline_s=deadline_s)

    # --- records: pk AUTH#<group>, sk <name>, so a group lists with one Query ------------

    @staticmethod
    def _record_key(group: str, name: str) -> dict:
        return {names.PK: {"S": names.RECORD_PREFIX + group}, names.SK: {"S": name}}

    def records_get(self, group: str, name: str) -> tuple[dict | None, int]:
        got = self._call("GetItem", Key=self._record_key(group, name), ConsistentRead=True).get("Item")
        if got is None:
            return None, 0
        return json.loads(got["data"]["S"]), int(got["version"]["N"])

    def records_put_if(self, group, name, data, *, expected_version, expires_at=None) -> bool:
        item = {
            **self._record_key(group, name),
            "data": {"S": json.dumps(data)},
            "version": {"N": str(expected_version + 1)},
        }
        if expires_at is not None:
            item[names.TTL_ATTRIBUTE] = {"N": str(expires_at)}
        if expected_version == 0:
            condition, values = "attribute_not_exists(#pk)", None
        else:
            condition, values = "#v = :v", {":v": {"N": str(expected_version)}}
        kwargs = {"ExpressionAttributeValues": values} if values else {}
        names_map = {"#pk": names.PK} if expected_version == 0 else {"#v": "version"}
        try:
            self._call(
                "PutItem",
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames=names_map,
                **kwargs,
            )
        except AwsError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def records_delete(self, group: str, name: str) -> bool:
        response = self._call("DeleteItem", Key=self._record_key(group, name), ReturnValues="ALL_OLD")
        return "Attributes" in response

    def records_list(self, group: str) -> list[tuple[str, dict]]:
        out, start = [], None
        while True:
            kwargs = {"ExclusiveStartKey": start} if start else {}
            response = self._call(
                "Query",
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": names.PK},
                ExpressionAttributeValues={":pk": {"S": names.RECORD_PREFIX + group}},
                ConsistentRead=True,
                **kwargs,
            )
            out += [(i[names.SK]["S"], json.loads(i["data"]["S"])) for i in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if start is None:
                return sorted(out, key=lambda pair: pair[0])
