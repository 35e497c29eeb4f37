"""moto 5.2.5's DynamoDB TransactWriteItems at the cost DynamoDB has: per item, not per table.

moto 5.2.5 backs up a table before *each* item of a transaction with `copy.deepcopy(table)`
(so a 25-event batch copies the whole events table 25 times) and rolls back by swapping the
copy in, which also drops every write other requests made meanwhile. With 2,500 stored events a
25-event POST took 1.8 s and the process grew to 6 GB. No newer moto release changes this
method (5.2.5 is the newest we checked; upstream only sped up Item copies), so
`patched_transactions()` swaps in `transact_write_items` below: the same checks and errors, but
an undo log of the items it touches (copies of those items only), and one transaction at a time
per backend (DynamoDB isolates transactions; other requests keep running).

It refuses any other moto version; tests/localcloud/test_moto_dynamodb.py fails when moto
changes, so an upgrade re-checks whether the patch is still needed.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import weakref
from collections.abc import Iterator
from typing import Any
from unittest import mock

import moto
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

MOTO_VERSION = "5.2.5"
_ORIGINAL = DynamoDBBackend.transact_write_items
_LOCK = threading.Lock()  # guards the per-backend locks below
_OPS = {"ConditionCheck", "Put", "Delete", "Update"}


_BACKEND_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # not in the backend:
# the local cloud pickles backends, and a lock cannot be pickled


def _backend_lock(backend: DynamoDBBackend) -> threading.Lock:
    with _LOCK:
        lock = _BACKEND_LOCKS.get(backend)
        if lock is None:
            lock = _BACKEND_LOCKS[backend] = threading.Lock()
        return lock


class _UndoLog:
    """The items a transaction touched, as they were before it: restored if it is cancelled."""

    def __init__(self, backend: DynamoDBBackend):
        self.backend = backend
        self.before: dict[tuple, tuple] = {}

    def remember(self, table_name: str, key: dict[str, Any]) -> None:
        table = self.backend.get_table(table_name)
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        slot = (table_name, str(hash_value), str(range_value))
        if slot not in self.before:
            current = table.get_item(hash_value, range_value)
            previous = copy.deepcopy(current) if current is not None else None
            self.before[slot] = (table, hash_value, range_value, previous)

    def restore(self) -> None:
        for table, hash_value, range_value, previous in self.before.values():
            table.delete_item(hash_value, range_value)
            if previous is None:
                continue
            if range_value is not None:
                table.items[hash_value][range_value] = previous
            else:
                table.items[hash_value] = previous


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's transact_write_items with an undo log of touched items instead of table copies."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _backend_lock(self):
        undo = _UndoLog(self)
        seen: set[tuple[str, str]] = set()
        errors: list[tuple] = []
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            original_item = None
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in _OPS:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                key = _key(self, op_type, op)
                unique = (str(table_name), str(dict(sorted(key.items()))))
                if unique in seen:
                    raise MultipleTransactionsException()
                seen.add(unique)
                failed, original_item = _condition_fails(self, table_name, key, op)
                if failed:
                    raise ConditionalCheckFailed()
                undo.remember(table_name, key)
                _apply(self, op_type, table_name, key, op)
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                undo.restore()
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))
            except Exception as e:
                errors.append((type(e).__name__, str(e), original_item))
        if any(code is not None for code, _, _ in errors):
            undo.restore()
            raise TransactionCanceledException(errors)


def _key(backend: DynamoDBBackend, op_type: str, op: dict) -> dict:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _condition_fails(backend: DynamoDBBackend, table_name: str, key: dict, op: dict):
    """(whether the op's condition fails, the old item if it asked for ALL_OLD)."""
    condition = op.get("ConditionExpression")
    if condition is None:
        return False, None
    current = backend.get_item(table_name, key)
    check = get_filter_expression(
        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if check.expr(current):
        return False, None
    wants_old = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    return True, current.to_json()["Attributes"] if wants_old and current else None


def _apply(backend: DynamoDBBackend, op_type: str, table_name: str, key: dict, op: dict) -> None:
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    condition = op.get("ConditionExpression")
    common = {
        "condition_expression": condition,
        "expression_attribute_names": names,
        "expression_attribute_values": values,
    }
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], **common)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, **common)
    elif op_type == "Update":
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **common)


def check_version() -> None:
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"localcloud.moto_dynamodb is written for moto {MOTO_VERSION}, found "
            f"{moto.__version__}: re-check whether transact_write_items still copies tables"
        )


@contextlib.contextmanager
def patched_transactions() -> Iterator[None]:
    """Within this block moto's TransactWriteItems costs what the items cost, not the table."""
    check_version()
    with mock.patch.object(DynamoDBBackend, "transact_write_items", transact_write_items):
        yield


def install() -> None:
    """Patch for the rest of the process (the local cloud's server)."""
    check_version()
    DynamoDBBackend.transact_write_items = transact_write_items
