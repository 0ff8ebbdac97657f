"""The DynamoDB wire format of GlyphMemory's items: keys, and memories to and from attribute maps.

One table (DESIGN §3): a memory item `MEM#<id>`/`MEM` carries the by-epoch GSI attributes; a
dedup claim `HASH#<namespace>#<content_hash>`/`HASH` carries a copy of the memory it names.
"""

from __future__ import annotations

from .. import names
from ..model import Memory

MEMORY_SK = "MEM"
CLAIM_SK = "HASH"


def table_definition(table_name: str) -> dict:
    """CreateTable arguments matching the CDK storage construct (used by tests and benchmarks)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": names.PK, "AttributeType": "S"},
            {"AttributeName": names.SK, "AttributeType": "S"},
            {"AttributeName": names.GSI_PARTITION, "AttributeType": "S"},
            {"AttributeName": names.GSI_SORT, "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": names.PK, "KeyType": "HASH"},
            {"AttributeName": names.SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": names.GSI_BY_EPOCH,
                "KeySchema": [
                    {"AttributeName": names.GSI_PARTITION, "KeyType": "HASH"},
                    {"AttributeName": names.GSI_SORT, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def memory_attrs(m: Memory) -> dict:
    attrs = {
        "id": {"S": m.id},
        names.GSI_PARTITION: {"S": m.namespace},
        names.GSI_SORT: {"N": str(m.epoch_us)},
        "text": {"S": m.text},
        "tags": {"L": [{"S": t} for t in m.tags]},
        "source": {"S": m.source},
        "content_hash": {"S": m.content_hash},
    }
    if m.session is not None:
        attrs["session"] = {"S": m.session}
    if m.expires_at is not None:
        attrs[names.TTL_ATTRIBUTE] = {"N": str(m.expires_at)}
    if m.updated_us is not None:
        attrs["updated_us"] = {"N": str(m.updated_us)}
    return attrs


def memory_from_attrs(a: dict) -> Memory:
    return Memory(
        id=a["id"]["S"],
        namespace=a[names.GSI_PARTITION]["S"],
        text=a["text"]["S"],
        tags=tuple(t["S"] for t in a["tags"]["L"]),
        source=a["source"]["S"],
        session=a["session"]["S"] if "session" in a else None,
        epoch_us=int(a[names.GSI_SORT]["N"]),
        content_hash=a["content_hash"]["S"],
        expires_at=int(a[names.TTL_ATTRIBUTE]["N"]) if names.TTL_ATTRIBUTE in a else None,
        updated_us=int(a["updated_us"]["N"]) if "updated_us" in a else None,
    )


def memory_key(memory_id: str) -> dict:
    return {names.PK: {"S": names.MEMORY_PREFIX + memory_id}, names.SK: {"S": MEMORY_SK}}


def claim_key(namespace: str, chash: str) -> dict:
    return {
        names.PK: {"S": f"{names.HASH_PREFIX}{namespace}#{chash}"},
        names.SK: {"S": CLAIM_SK},
    }


def claim_item(memory: Memory) -> dict:
    """The dedup claim of a memory: its (namespace, hash) key, its id and a copy of it."""
    item = {
        **claim_key(memory.namespace, memory.content_hash),
        "memory_id": {"S": memory.id},
        "memory": {"M": memory_attrs(memory)},
    }
    if memory.expires_at is not None:
        item[names.TTL_ATTRIBUTE] = {"N": str(memory.expires_at)}
    return item


def conditional_failed(exc) -> bool:
    """Whether an AwsError is a failed ConditionExpression (the item was not as required)."""
    return exc.code == "ConditionalCheckFailedException"


def cancellation_codes(exc) -> list[str]:
    """Why each item of a cancelled transaction failed: CancellationReasons, or (as some
    emulators send it) the list in the message."""
    reasons = exc.body.get("CancellationReasons")
    if isinstance(reasons, list):
        return [str(r.get("Code", "None")) for r in reasons if isinstance(r, dict)]
    listed = exc.message.rpartition("[")[2].rstrip("]")
    return [code.strip() for code in listed.split(",")] if listed else []
