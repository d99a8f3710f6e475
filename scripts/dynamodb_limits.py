"""DynamoDB's request limits, checked before moto sees a request (`moto_server.py`).

moto accepts several requests that DynamoDB refuses, so code that sends them passes every local
test and fails in AWS. `refusal(operation, body, schema_of)` answers what DynamoDB answers to
such a request, a `(status, error type, message)`, or None when DynamoDB would take it:

- BatchWriteItem: more than 25 requests (per table, or in all), two requests for one item, an
  item over 400 KB, an empty key;
- BatchGetItem: more than 100 keys (per table, or in all), one key twice, an empty key;
- TransactWriteItems: more than 100 actions, two actions on one item (same table and key), an
  item over 400 KB, more than 4 MB in all, an empty key;
- TransactGetItems: more than 100 gets, an empty key;
- PutItem: an item over 400 KB, an empty key (table or secondary index key attribute);
  GetItem, UpdateItem, DeleteItem: an empty key;
- Query: a FilterExpression (or legacy QueryFilter) naming a key attribute of the table or
  index queried.

Limits and messages follow the DynamoDB developer guide ("Service, account, and table quotas",
"Item sizes", the API reference of each operation) and the text DynamoDB sends; item sizes are
DynamoDB's rule: attribute names plus values, strings in UTF-8 bytes.

The 4 MB of a transaction is counted from the request alone (items put, keys, the values of
updates and conditions): DynamoDB also counts the stored items an update or delete touches,
which the stand-in cannot see before moto applies it. So this is a lower bound of what DynamoDB
counts: a transaction refused here is refused by DynamoDB, not necessarily the other way round.
"""
import base64
import json
import re
from decimal import Decimal, InvalidOperation

# DynamoDB's quotas.
MAX_ITEM_BYTES = 400 * 1024
MAX_BATCH_WRITE = 25
MAX_BATCH_GET = 100
MAX_TRANSACT_ITEMS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024

# The error types as DynamoDB names them in `__type` (the SDKs read the part after `#`).
VALIDATION = "com.amazon.coral.validation#ValidationException"

ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"
DUPLICATE_KEYS = "Provided list of item keys contains duplicates"
MULTIPLE_OPERATIONS = "Transaction request cannot include multiple operations on one item"
TRANSACTION_TOO_LARGE = "Transaction item size has exceeded the 4 MB limit"


class KeySchema:
    """The key attributes of one table: its own, and each secondary index's."""

    def __init__(self, table_keys, index_keys):
        self.table_keys = list(table_keys)  # [hash, range?]
        self.index_keys = dict(index_keys)  # index name -> [hash, range?]

    def keys_of(self, index_name):
        if index_name is None:
            return self.table_keys
        return self.index_keys.get(index_name)


def refusal(operation, body, schema_of):
    """DynamoDB's answer to a request it refuses, as (HTTP status, `__type`, message), or None.

    `schema_of(table_name)` returns the table's KeySchema, or None when the table is unknown
    (then moto answers, with its ResourceNotFoundException)."""
    check = CHECKS.get(operation)
    if check is None:
        return None
    try:
        request = json.loads(body)
    except ValueError:
        return None  # moto answers a malformed body with its SerializationException
    if not isinstance(request, dict):
        return None
    try:
        message = check(request, schema_of)
    except (KeyError, TypeError, AttributeError, ValueError, StopIteration):
        return None  # a malformed request: moto's own validation answers it
    if message is None:
        return None
    return 400, VALIDATION, message


# ----------------------------------------------------------------------------------------------
# Sizes, as the developer guide counts them ("Item sizes and formats",
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)


def _utf8(text):
    return len(text.encode("utf-8"))


def _number_size(text):
    """About one byte per two significant digits, plus one."""
    try:
        digits = Decimal(text).normalize().as_tuple().digits
    except InvalidOperation:
        digits = tuple(ch for ch in text if ch.isdigit())
    return (len(digits) + 1) // 2 + 1


def value_size(value):
    """The size DynamoDB counts for one attribute value (JSON wire form)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return _utf8(inner)
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(base64.b64decode(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(v) for v in inner)
    if kind == "NS":
        return sum(_number_size(v) for v in inner)
    if kind == "BS":
        return sum(len(base64.b64decode(v)) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + _utf8(k) + value_size(v) for k, v in inner.items())
    return 0


def item_size(item):
    """Attribute names plus values, as DynamoDB sizes an item."""
    return sum(_utf8(name) + value_size(value) for name, value in item.items())


# ----------------------------------------------------------------------------------------------
# Keys


def _is_empty(value):
    kind, inner = next(iter(value.items()))
    return kind in ("S", "B") and inner == ""


def _empty_table_key(key, schema):
    """The message for an empty string/binary value of a table key attribute in `key`."""
    for name in schema.table_keys:
        value = key.get(name)
        if value is not None and _is_empty(value):
            kind = "string" if "S" in value else "binary"
            return ("One or more parameter values are not valid. The AttributeValue for a key "
                    f"attribute cannot contain an empty {kind} value. Key: {name}")
    return None


def _empty_index_key(item, schema):
    """The message for an empty string/binary value of a secondary index key attribute."""
    for index_name, names in schema.index_keys.items():
        for name in names:
            value = item.get(name)
            if value is not None and _is_empty(value):
                kind = "string" if "S" in value else "binary"
                return ("One or more parameter values are not valid. A value specified for a "
                        "secondary index key is not supported. The AttributeValue for a key "
                        f"attribute cannot contain an empty {kind} value. IndexName: "
                        f"{index_name}, IndexKey: {name}")
    return None


def _item_problem(item, schema):
    """What DynamoDB refuses in an item to put: its size, an empty key (table, then index)."""
    if item_size(item) > MAX_ITEM_BYTES:
        return ITEM_TOO_LARGE
    return _empty_table_key(item, schema) or _empty_index_key(item, schema)


def _key_identity(table, key, schema):
    """Table and primary key of an item, comparable: two of them equal means one item."""
    values = tuple(json.dumps(key.get(name), sort_keys=True) for name in schema.table_keys)
    return table, values


def _key_of_item(item, schema):
    return {name: item[name] for name in schema.table_keys if name in item}


# ----------------------------------------------------------------------------------------------
# The checks, one per operation


def _object_list(table, kind, count):
    """How DynamoDB's validation renders a list it refuses: its members' Java names."""
    members = ", ".join(f"com.amazonaws.dynamodb.v20120810.{kind}@{i:08x}" for i in range(count))
    return f"{{{table}=[{members}]}}" if table is not None else f"[{members}]"


def _batch_write_item(request, schema_of):
    request_items = request["RequestItems"]
    for table, writes in request_items.items():
        if len(writes) > MAX_BATCH_WRITE:
            value = _object_list(table, "WriteRequest", len(writes))
            return (f"1 validation error detected: Value '{value}' at 'requestItems' failed "
                    "to satisfy constraint: Map value must satisfy constraint: [Member must have "
                    f"length less than or equal to {MAX_BATCH_WRITE}, Member must have length "
                    "greater than or equal to 1]")
    if sum(len(writes) for writes in request_items.values()) > MAX_BATCH_WRITE:
        return "Too many items requested for the BatchWriteItem call"
    for table, writes in request_items.items():
        schema = schema_of(table)
        if schema is None:
            continue
        seen = set()
        for write in writes:
            if "PutRequest" in write:
                item = write["PutRequest"]["Item"]
                problem = _item_problem(item, schema)
                key = _key_of_item(item, schema)
            else:
                key = write["DeleteRequest"]["Key"]
                problem = _empty_table_key(key, schema)
            if problem:
                return problem
            identity = _key_identity(table, key, schema)
            if identity in seen:
                return DUPLICATE_KEYS
            seen.add(identity)
    return None


def _batch_get_item(request, schema_of):
    request_items = request["RequestItems"]
    for table, wanted in request_items.items():
        if len(wanted["Keys"]) > MAX_BATCH_GET:
            value = _object_list(None, "Key", len(wanted["Keys"]))
            return (f"1 validation error detected: Value '{value}' at "
                    f"'requestItems.{table}.member.keys' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {MAX_BATCH_GET}")
    if sum(len(wanted["Keys"]) for wanted in request_items.values()) > MAX_BATCH_GET:
        return "Too many items requested for the BatchGetItem call"
    for table, wanted in request_items.items():
        schema = schema_of(table)
        if schema is None:
            continue
        seen = set()
        for key in wanted["Keys"]:
            problem = _empty_table_key(key, schema)
            if problem:
                return problem
            identity = _key_identity(table, key, schema)
            if identity in seen:
                return DUPLICATE_KEYS
            seen.add(identity)
    return None


def _transaction_too_long(items, kind):
    if len(items) > MAX_TRANSACT_ITEMS:
        return (f"1 validation error detected: Value '{_object_list(None, kind, len(items))}' at "
                "'transactItems' failed to satisfy constraint: Member must have length less "
                f"than or equal to {MAX_TRANSACT_ITEMS}")
    return None


def _values_size(op):
    values = op.get("ExpressionAttributeValues") or {}
    return sum(value_size(v) for v in values.values())


def _transact_write_items(request, schema_of):
    items = request["TransactItems"]
    too_long = _transaction_too_long(items, "TransactWriteItem")
    if too_long:
        return too_long
    seen = set()
    total = 0
    for entry in items:
        kind, op = next(iter(entry.items()))
        table = op["TableName"]
        schema = schema_of(table)
        if schema is None:
            continue
        if kind == "Put":
            item = op["Item"]
            problem = _item_problem(item, schema)
            key = _key_of_item(item, schema)
            total += item_size(item)
        else:
            key = op["Key"]
            problem = _empty_table_key(key, schema)
            total += item_size(key) + _values_size(op)
        if problem:
            return problem
        identity = _key_identity(table, key, schema)
        if identity in seen:
            return MULTIPLE_OPERATIONS
        seen.add(identity)
    if total > MAX_TRANSACTION_BYTES:
        return TRANSACTION_TOO_LARGE
    return None


def _transact_get_items(request, schema_of):
    items = request["TransactItems"]
    too_long = _transaction_too_long(items, "TransactGetItem")
    if too_long:
        return too_long
    for entry in items:
        get = entry["Get"]
        schema = schema_of(get["TableName"])
        if schema is not None:
            problem = _empty_table_key(get["Key"], schema)
            if problem:
                return problem
    return None


def _put_item(request, schema_of):
    schema = schema_of(request["TableName"])
    return None if schema is None else _item_problem(request["Item"], schema)


def _keyed(request, schema_of):
    schema = schema_of(request["TableName"])
    return None if schema is None else _empty_table_key(request["Key"], schema)


# A name in an expression: `name`, `#placeholder`, or a value `:placeholder` (skipped).
_EXPRESSION_TOKEN = re.compile(r"[.:]?#?[A-Za-z_][A-Za-z0-9_]*")
_EXPRESSION_WORDS = {
    "and", "or", "not", "between", "in", "attribute_exists", "attribute_not_exists",
    "attribute_type", "begins_with", "contains", "size",
}


def top_level_names(expression, names):
    """The top-level attribute names an expression reads (placeholders resolved)."""
    found = []
    for match in _EXPRESSION_TOKEN.finditer(expression):
        token = match.group(0)
        if token[0] in ".:":  # a nested path element, or a value placeholder
            continue
        if token.lower() in _EXPRESSION_WORDS and not token.startswith("#"):
            continue
        found.append(names.get(token, token) if token.startswith("#") else token)
    return found


def _query(request, schema_of):
    schema = schema_of(request["TableName"])
    if schema is None:
        return None
    keys = schema.keys_of(request.get("IndexName"))
    if not keys:
        return None
    names = request.get("ExpressionAttributeNames") or {}
    expression = request.get("FilterExpression")
    if expression:
        for name in top_level_names(expression, names):
            if name in keys:
                return ("Filter Expression can only contain non-primary key attributes: "
                        f"Primary key attribute: {name}")
    for name in request.get("QueryFilter") or {}:
        if name in keys:
            return ("QueryFilter can only contain non-primary key attributes: "
                    f"Primary key attribute: {name}")
    return None


CHECKS = {
    "BatchWriteItem": _batch_write_item,
    "BatchGetItem": _batch_get_item,
    "TransactWriteItems": _transact_write_items,
    "TransactGetItems": _transact_get_items,
    "PutItem": _put_item,
    "GetItem": _keyed,
    "UpdateItem": _keyed,
    "DeleteItem": _keyed,
    "Query": _query,
}
