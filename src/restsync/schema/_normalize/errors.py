"""The `DataError`s of normalization: each names the record (its index on the page), what
is wrong with it and how to fix it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import pyarrow as pa
import pyarrow.compute as pc

from restsync.errors import DataError
from restsync.schema._evolve import GroupLayout
from restsync.schema._infer import Observed
from restsync.schema._normalize.settings import Settings
from restsync.schema._normalize.state import TableState


def _raise(message: str, resource: str, hint: str, record: int) -> NoReturn:
    """Raise the `DataError` of record `record`: `message` says what is wrong with it, the
    error itself where it is ("record 3 on page 2 ...", see `DataError`)."""
    raise DataError(message, resource=resource, hint=hint, record_index=record)


def _preview(value: Any) -> str:
    shown = repr(value)
    return shown[:57] + "..." if len(shown) > 60 else shown


def as_dict(rec: Any, i: int, resource: str) -> dict[Any, Any]:
    """Record `i` as a dict; a record that is not an object is a `DataError`."""
    if isinstance(rec, Mapping):
        return dict(rec)
    _raise(
        f"is {type(rec).__name__} {_preview(rec)}, not an object",
        resource,
        "point data_selector at the list of records (each record must be a JSON object)",
        i,
    )


def missing_primary_key(s: Settings, i: int, row: dict[str, Any], key: list[Any]) -> NoReturn:
    """Record `i` (walked into `row`) has no value for a primary-key column (under merge)."""
    col = next(c for c, v in zip(s.primary_key, key, strict=True) if v is None)
    fields = [k for k, v in row.items() if v is not None][:12]
    state = "has no primary key" if col not in row else "has a null primary key"
    _raise(
        f"{state} '{col}'",
        s.resource,
        f"set primary_key to a field every record has (fields seen: {', '.join(fields) or 'none'})",
        i,
    )


def check_value(s: Settings, name: str, main: pa.Array | None, obs: Observed | None) -> None:
    """Raise `DataError` for the first record without a value in the required column
    `name` (`main`: its values as stored; None when no record has one)."""
    if main is not None and main.null_count == 0:
        return
    i = 0 if main is None else pc.index(pc.is_null(main), True).as_py()
    other = obs is not None and any(a.is_valid()[i].as_py() for a in obs.arrays.values())
    what = "a value of another type" if other else "no value"
    why = (
        "it is a primary key"
        if name in s.primary_key
        else "it is a merge key"
        if name in s.merge_key
        else "its hint says nullable: false"
    )
    _raise(
        f"has {what} for column '{name}' of table '{s.table_name}', which is NOT NULL ({why})",
        s.resource,
        (
            "set primary_key to a field every record has"
            if name in s.primary_key
            else f"fix the data, or give '{name}' a columns hint with nullable: true"
        ),
        i,
    )


def bad_key(s: Settings, i: int, name: str, value: Any, target: str, why: str) -> NoReturn:
    """Record `i`'s primary key `name` does not convert to the key column's type."""
    _raise(
        f"has the primary key '{name}' = {_preview(value)}, which is "
        f"not a {target} key value ({why}); table '{s.table_name}' keys '{name}' as {target}",
        s.resource,
        "a key value converts to the key column's type only when exact; fix the "
        "primary_key, or give it a columns hint with the data_type the API sends",
        i,
    )


def check_key_variants(
    s: Settings, name: str, layout: GroupLayout, arrays: dict[str, pa.Array], st: TableState
) -> None:
    """A key value that fits only a variant of its key column is a `DataError`."""
    for v in layout.variants:
        arr = arrays.get(v.name)
        if arr is None or arr.null_count == len(arr):
            continue
        i = pc.index(pc.is_valid(arr), True).as_py()
        raw = st.cols.get(name)
        value = raw[i] if isinstance(raw, list) else arr[i].as_py()
        bad_key(s, i, name, value, layout.main.data_type, f"it is {v.data_type}")


def contract_violation(resource: str, st: TableState, row: int, entity: str, what: str) -> NoReturn:
    """The `DataError` of a `freeze` contract, at the record of `st`'s row `row`."""
    i = row if st.ridx is None else int(st.ridx[row].as_py())
    _raise(
        f"brings {what}, and schema_contract freezes {entity}",
        resource,
        f"set schema_contract {entity} to 'evolve' (or 'discard_row' / "
        "'discard_value') to accept or drop such data",
        i,
    )
