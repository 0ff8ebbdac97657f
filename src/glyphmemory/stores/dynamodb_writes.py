"""The DynamoDB store's writes: a memory's put (with its dedup claim and the repeat rule), edit
and delete.

Dedup uses a claim item per (namespace, content hash) written with a conditional PutItem, then
the memory item. Two single-item writes cost half a TransactWriteItems (which bills twice), and
the claim carries a copy of the memory, so a writer that died between the two puts is repaired
by the next identical write instead of leaving the text unwritable.
"""

from __future__ import annotations

import os
import time

from .. import names, repeat
from ..aws.client import AwsError
from ..errors import Conflict, Unavailable
from ..model import Memory, legacy_content_hash
from .dynamodb_items import (
    cancellation_codes,
    claim_item,
    claim_key,
    conditional_failed,
    memory_attrs,
    memory_from_attrs,
    memory_key,
)

# Each failed attempt means another writer's repeat landed: N writers of one text at once need
# at most N attempts (with the pauses below, 50 at once pass in a test).
_REPEAT_ATTEMPTS = 64


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


class MemoryWrites:
    """DynamoStore's writes (a mixin: it uses the store's table, _call, _call_if, _send, get and index)."""

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
            return memory, None
        held = self.get(memory.id, now_s=now_s)
        if held is not None and (held.namespace, held.content_hash) == (memory.namespace, memory.content_hash):
            # While our put was slow, a writer of the same text found our claim and wrote this
            # memory from it: it is ours, and the claim must stay (releasing it let the next
            # identical write store a second copy). The answer is what this write stored: the
            # tags and expiry later repeats added are theirs to report.
            return memory, None
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
        """Write a memory item, with its search index, only where no item has this key yet;
        False when one has (dynamodb_index.put_new: one TransactWriteItems)."""
        return self.index.put_new(item, memory_from_attrs(item))

    def _put_item_new(self, item: dict) -> bool:
        """PutItem only where no item has this key yet; False when one has."""
        return self._call_if(
            "PutItem",
            Item=item,
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": names.PK},
        )

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
                if not conditional_failed(exc):
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
        # The item alone, then its index: its writer is most often alive and sending the item
        # with its index, and a transaction of every waiting writer on those same items would
        # cancel the writer's own (TransactionConflict). A lost race is fine: the writer's is in.
        if self._put_item_new({**memory_key(existing.id), **memory_attrs(existing)}):
            self.index.add(existing)
        return True

    def _release_claim(self, memory: Memory) -> None:
        self._call_if(
            "DeleteItem",
            Key=claim_key(memory.namespace, memory.content_hash),
            ConditionExpression="memory_id = :id",
            ExpressionAttributeValues={":id": {"S": memory.id}},
        )

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
                reasons = cancellation_codes(exc)
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
        return self._call_if(
            "DeleteItem",
            Key=memory_key(memory_id),
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={"#pk": names.PK},
        )
