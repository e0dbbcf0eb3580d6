"""Primary-key values in one type: a key value converts to the key column's type when exact.

An API may send one key as `1`, `1.0` or `"1"` (in one batch or across runs); all three are
the key `1` of a bigint key column, so that a merge finds the stored row. A value that does not
convert exactly (`"x1"` or `1.5` for a bigint key, a bool for any key) is an error: a key
column never gets a variant column, whose rows would have a NULL key.

`key_type` gives the type the key values of a batch convert to (the stored column's, or the
one the batch's values agree on), `convert_key` converts one value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from restsync.schema._infer import DOUBLE_EXACT_INT, INT64_MAX, INT64_MIN

_RE_INT = re.compile(r"-?[0-9]+")
#: the JSON (Python) types a key column of a type holds without conversion
_NATURAL: dict[str, set[type]] = {"bigint": {int}, "double": {float}, "text": {str}}


def key_type(column_type: str | None, values: Sequence[Any]) -> str | None:
    """The type the key `values` convert to, or None when they need no conversion.

    `column_type` is the key column's type where the schema has it; else numbers win over
    strings (bigint when every number is integral, else double), as the main column's
    family does in `infer`.
    """
    types = {type(v) for v in values}
    types.discard(type(None))
    if column_type is not None:
        natural = _NATURAL.get(column_type)
        if natural is not None and types <= natural:
            return None
        if column_type in ("date", "timestamp", "decimal") and types <= {str}:
            return None  # the strings are classified as the column's; a stray one is an error
        return column_type
    if len(types) <= 1 and bool not in types:
        return None
    numbers = [v for v in values if type(v) in (int, float)]
    if not numbers:
        return None
    if all(type(v) is int or (math.isfinite(v) and float(v).is_integer()) for v in numbers):
        return "bigint"
    return "double"


def convert_key(value: Any, target: str) -> Any:
    """`value` as a `target` key value; raises `ValueError` when that is not exact."""
    if value is None:
        return None
    t = type(value)
    if t is bool:
        raise ValueError("a boolean is not a key value")
    if target == "bigint":
        if t is int:
            out = value
        elif (t is float and math.isfinite(value) and value.is_integer()) or (
            t is str and _RE_INT.fullmatch(value)
        ):
            out = int(value)
        else:
            raise ValueError("not an integer")
        if not INT64_MIN <= out <= INT64_MAX:
            raise ValueError("beyond a 64-bit integer")
        return out
    if target == "double":
        if t is float:
            return value
        if t is int and -DOUBLE_EXACT_INT <= value <= DOUBLE_EXACT_INT:
            return float(value)
        if t is str and _RE_INT.fullmatch(value) and abs(int(value)) <= DOUBLE_EXACT_INT:
            return float(int(value))
        raise ValueError("not a number a double holds exactly")
    if target == "text":
        if t is str:
            return value
        if t is int:
            return str(value)
        raise ValueError("no exact text form")
    if t is str:
        return value
    raise ValueError(f"not a {target} value")
