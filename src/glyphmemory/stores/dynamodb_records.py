"""The DynamoDB store's records (Store.records_*): small JSON documents by (group, name), changed
by compare-and-set. Item: pk `AUTH#<group>` (names.RECORD_PREFIX), sk `<name>`, `data` (JSON),
`version`, and the table's TTL attribute when the record expires, so a group lists with one Query."""

from __future__ import annotations

import json

from .. import names


class Records:
    """DynamoStore's records (a mixin: it uses the store's _call and _call_if)."""

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
        return self._call_if(
            "PutItem", Item=item, ConditionExpression=condition, ExpressionAttributeNames=names_map, **kwargs
        )

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
