"""Plain dicts <-> DynamoDB attribute values (strings, numbers, maps, lists) for the low-level
client."""

from __future__ import annotations

_TINY = 1e-100


def to_item(record: dict) -> dict:
    return {name: _to_value(value) for name, value in record.items() if value is not None}


def from_item(item: dict) -> dict:
    return {name: _from_value(value) for name, value in item.items()}


def _to_value(value) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        # DynamoDB numbers cannot be smaller in magnitude than 1e-130: store those as 0.
        return {"N": repr(value) if abs(value) >= _TINY else "0"}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, dict):
        return {"M": to_item(value)}
    if isinstance(value, list | tuple):
        return {"L": [_to_value(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__}")


def _from_value(value: dict):
    ((kind, raw),) = value.items()
    if kind == "N":
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    if kind == "M":
        return from_item(raw)
    if kind == "L":
        return [_from_value(v) for v in raw]
    return raw
