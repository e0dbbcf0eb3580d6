"""Type inference: which restsync `DataType` each value of a column has.

Values are grouped in *families* by their JSON type; a family's types are ordered from
narrow to wide and the wider one absorbs the narrower without loss of meaning:

=========  ==================================  =====================================
family     types, narrow -> wide               how a narrower value is stored wider
=========  ==================================  =====================================
number     bigint < decimal < double           cast (ints beyond int64 -> decimal(38,0));
                                               exact numbers a double cannot hold: see below
bool       bool
string     date < timestamp < text             date at midnight UTC; text keeps the string
json       json                                objects/lists stored as JSON text
=========  ==================================  =====================================

A JSON string is `date` when it is `YYYY-MM-DD`, `timestamp` when it is an ISO-8601
date-time (`T` or space, optional seconds and fraction, `Z`/`+HH:MM`/`+HHMM` offset or none,
which means UTC), normalized to UTC microseconds; a string column holding even one other
string is `text` (the original strings are kept). An int beyond int64 is `decimal` with
precision 38 while it has at most 38 digits, else `text` (its decimal digits).

**Exactness.** A double column never receives a number it cannot hold exactly, so that no
value is silently altered: a `decimal` value, and an integer beyond +-2**53 (a *wide* int, which
a double would round), go to the variant `<col>__v_decimal` (decimal(38,0) for ints) whenever
the column's main type is double; smaller ints still go to the double. The normalizer remembers
which columns have seen wide ints, so a column that saw them in an earlier batch as bigint gets
its `__v_decimal` variant when a later batch brings a double (the layout stays a function of
the set of types seen, plus "wide ints seen"). Booleans are their own family: `True` never
becomes `1` in a number column (it goes to `<col>__v_bool`).

The *main* family of a column is chosen by a fixed precedence, never by arrival order:
number > bool > string > json. Values of the other families go to variant columns
`<col>__v_<type>`, one per family. This makes the schema a join over the set of seen
types, so it does not depend on the order in which batches arrive (see `evolve`).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import importlib.util
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from restsync.schema._model import DEFAULT_PRECISION, DEFAULT_SCALE, DataType
from restsync.util.jsontext import json_text

# pyarrow looks up `dateutil.relativedelta` on every conversion of Python objects and does
# not remember a failed import; where dateutil is not installed, each `pa.array(...)` paid a
# full (failing) module search. Recording the absence once makes that lookup fail at once.
if "dateutil.relativedelta" not in sys.modules and importlib.util.find_spec("dateutil") is None:
    sys.modules["dateutil.relativedelta"] = None  # type: ignore[assignment]

FAMILY: dict[str, str] = {
    "bigint": "number",
    "decimal": "number",
    "double": "number",
    "bool": "bool",
    "date": "string",
    "timestamp": "string",
    "text": "string",
    "json": "json",
}
# Width of a type inside its family: a wider type absorbs a narrower one.
WIDTH: dict[str, int] = {
    "bigint": 0,
    "decimal": 1,
    "double": 2,
    "bool": 0,
    "date": 0,
    "timestamp": 1,
    "text": 2,
    "json": 0,
}
# Precedence of the families for the main column (lower wins).
FAMILY_PRECEDENCE: dict[str, int] = {"number": 0, "bool": 1, "string": 2, "json": 3}

INT64_MIN = -(2**63)
#: The largest magnitude up to which every int is exactly representable as a double.
DOUBLE_EXACT_INT = 2**53
INT64_MAX = 2**63 - 1
DECIMAL_MAX = 10**38
INFERRED_DECIMAL_PRECISION = 38

JSON_FIELD_META = {b"restsync.data_type": b"json"}
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_TS_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?$"
)
_NAIVE_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$"
_RE_DATE_OR_TS = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}.*)?$")


def join_types(a: str, b: str) -> str:
    """The wider of two types of the same family."""
    return a if WIDTH[a] >= WIDTH[b] else b


def absorbs(target: str, source: str) -> bool:
    """True when a `source` value can be stored in a `target` column without a variant.

    A double does not absorb a decimal (it would round it); bigint values are absorbed by
    a double except wide ones, which `wide_mask` finds and the caller moves to a variant.
    """
    if target == "double" and source == "decimal":
        return False
    return FAMILY[target] == FAMILY[source] and WIDTH[target] >= WIDTH[source]


def wide_mask(arr: pa.Array) -> pa.Array | None:
    """For an int64 array: a mask of the values a double cannot hold exactly, or None if none."""
    if len(arr) == arr.null_count:
        return None
    mm = pc.min_max(arr)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    if lo >= -DOUBLE_EXACT_INT and hi <= DOUBLE_EXACT_INT:
        return None
    return pc.or_(pc.greater(arr, DOUBLE_EXACT_INT), pc.less(arr, -DOUBLE_EXACT_INT))


def arrow_type(
    data_type: str, precision: int | None = None, scale: int | None = None
) -> pa.DataType:
    """The Arrow type a column of `data_type` is normalized, staged and written as: the one
    map from restsync's types to Arrow's (`restsync.stage.arrow_type` reads it too). A
    decimal without a precision or scale gets `DEFAULT_PRECISION` / `DEFAULT_SCALE`, as the
    destinations' DDL does."""
    if data_type == "bigint":
        return pa.int64()
    if data_type == "double":
        return pa.float64()
    if data_type == "decimal":
        return pa.decimal128(
            precision or DEFAULT_PRECISION, DEFAULT_SCALE if scale is None else scale
        )
    if data_type == "bool":
        return pa.bool_()
    if data_type == "timestamp":
        return TIMESTAMP_TYPE
    if data_type == "date":
        return pa.date32()
    return pa.string()  # text, json


def arrow_field(
    name: str,
    data_type: str,
    nullable: bool = True,
    precision: int | None = None,
    scale: int | None = None,
) -> pa.Field:
    """The Arrow field of a column; json columns carry `restsync.data_type=json` metadata."""
    meta = JSON_FIELD_META if data_type == "json" else None
    return pa.field(name, arrow_type(data_type, precision, scale), nullable, metadata=meta)


def data_type_of_field(f: pa.Field) -> DataType:
    """The restsync type of an Arrow field produced by the normalizer."""
    t = f.type
    if f.metadata and f.metadata.get(b"restsync.data_type") == b"json":
        return "json"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    return "text"


@dataclass
class Observed:
    """What one batch holds for one column.

    `arrays` maps each seen type to an array of the full batch length holding that type's
    values (null elsewhere); `raw` holds the original strings of the string family (used
    when a date/timestamp value ends up in a text column). `complete` is True when every
    row had a non-null value; `wide` when a bigint value lies beyond +-2**53.
    """

    arrays: dict[str, pa.Array]
    raw: pa.Array | None
    complete: bool
    wide: bool = False


def _parse_ts_py(s: str) -> _dt.datetime | None:
    """Parse an ISO-8601 date-time the Arrow cast refused (nanoseconds, odd offsets)."""
    t = s.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    m = re.match(r"^(.*\.\d{6})\d+(.*)$", t)
    if m:  # timestamps are stored in microseconds (documented, see the timestamps golden)
        t = m.group(1) + m.group(2)
    try:
        d = _dt.datetime.fromisoformat(t)
        if d.tzinfo is None:
            d = d.replace(tzinfo=_dt.timezone.utc)
        return d.astimezone(_dt.timezone.utc)
    except (ValueError, OverflowError):  # not ISO, or beyond year 1..9999 in UTC
        return None


# Instants a Python datetime can hold (year 1..9999 UTC), in microseconds since the epoch.
_TS_MIN_US = -62135596800000000
_TS_MAX_US = 253402300799999999
_DATE_MIN_DAYS = -719162  # 0001-01-01


def _in_range(ts: pa.Array) -> bool:
    """True when every timestamp lies in year 1..9999 UTC (else readers fail on it)."""
    if len(ts) == ts.null_count:
        return True
    mm = pc.min_max(ts.cast(pa.int64()))
    return bool(mm["min"].as_py() >= _TS_MIN_US and mm["max"].as_py() <= _TS_MAX_US)


def _cast_timestamps(arr: pa.Array) -> pa.Array | None:
    """`arr` cast to timestamp[us, UTC], or None when Arrow cannot parse every value."""
    try:
        return arr.cast(TIMESTAMP_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _as_timestamps(ts: pa.Array, arr: pa.Array) -> tuple[str, pa.Array]:
    """Parsed timestamps `ts` of `arr`: a timestamp column if every one fits, else text."""
    return ("timestamp", ts) if _in_range(ts) else ("text", arr)


def _all_match(valid: pa.Array, pattern: str) -> bool:
    """Whether every (non-null) value of `valid` matches `pattern`."""
    return bool(pc.all(pc.match_substring_regex(valid, pattern)).as_py())


def _classify_dates(arr: pa.Array) -> tuple[str, pa.Array]:
    """A string array whose values all look like dates: `date`, or text if one is no date."""
    try:
        d = arr.cast(pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return "text", arr
    if len(d) > d.null_count and pc.min(d.cast(pa.int32())).as_py() < _DATE_MIN_DAYS:
        return "text", arr  # year 0: no reader can hold it
    return "date", d


def _timestamp_like(valid: pa.Array) -> bool:
    """Whether every value of `valid` is a timestamp, or every one a timestamp or a date."""
    if _all_match(valid, _TS_PATTERN):
        return True
    return bool(
        pc.all(
            pc.or_(
                pc.match_substring_regex(valid, _TS_PATTERN),
                pc.match_substring_regex(valid, _DATE_PATTERN),
            )
        ).as_py()
    )


def _with_offsets(arr: pa.Array) -> pa.Array:
    """`arr` with dates promoted to midnight UTC and naive or `z` timestamps marked `Z`."""
    return pc.if_else(
        pc.match_substring_regex(arr, _DATE_PATTERN),
        pc.binary_join_element_wise(arr, "T00:00:00Z", ""),
        pc.if_else(
            pc.match_substring_regex(arr, _NAIVE_PATTERN),
            pc.binary_join_element_wise(arr, "Z", ""),
            pc.replace_substring_regex(arr, "z$", "Z"),
        ),
    )


def _parse_timestamps_py(fixed: pa.Array) -> pa.Array | None:
    """`fixed` parsed value by value in Python (what Arrow's cast refuses), or None if one
    value is no timestamp."""
    parsed: list[_dt.datetime | None] = []
    for s in fixed.to_pylist():
        if s is None:
            parsed.append(None)
            continue
        d = _parse_ts_py(s)
        if d is None:
            return None
        parsed.append(d)
    return pa.array(parsed, TIMESTAMP_TYPE)


def _classify_strings(arr: pa.Array) -> tuple[str, pa.Array]:
    """Classify a string array (nulls allowed): `(type, typed array)`.

    The typed array is the array itself for text, else date32 / timestamp[us, UTC].
    """
    valid = arr.drop_null() if arr.null_count else arr
    if len(valid) == 0:
        return "text", arr
    first = valid[0].as_py()
    if not _RE_DATE_OR_TS.match(first):
        return "text", arr
    if len(first) > 10:  # fast path: every value an ISO timestamp with an offset
        ts = _cast_timestamps(arr)
        if ts is not None:
            return _as_timestamps(ts, arr)
    if _all_match(valid, _DATE_PATTERN):
        return _classify_dates(arr)
    if not _timestamp_like(valid):
        return "text", arr
    # timestamps (dates among them are promoted to midnight UTC)
    fixed = _with_offsets(arr)
    ts = _cast_timestamps(fixed)
    if ts is not None:
        return _as_timestamps(ts, arr)
    parsed = _parse_timestamps_py(fixed)
    return ("text", arr) if parsed is None else ("timestamp", parsed)


def _from_arrow(
    arr: pa.Array, values: Sequence[Any]
) -> tuple[dict[str, pa.Array], pa.Array | None]:
    t = arr.type
    if pa.types.is_null(t):
        return {}, None
    if pa.types.is_integer(t):
        return {"bigint": arr.cast(pa.int64())}, None
    if pa.types.is_floating(t):
        return {"double": arr.cast(pa.float64())}, None
    if pa.types.is_boolean(t):
        return {"bool": arr}, None
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if pa.types.is_large_string(t):
            arr = arr.cast(pa.string())
        kind, typed = _classify_strings(arr)
        return {kind: typed}, arr
    if pa.types.is_timestamp(t):
        if t.tz is None:
            arr = arr.cast(pa.timestamp("us")).cast(TIMESTAMP_TYPE)
        return {"timestamp": arr.cast(TIMESTAMP_TYPE)}, None
    if pa.types.is_date(t):
        return {"date": arr.cast(pa.date32())}, None
    if pa.types.is_decimal(t):
        return {"decimal": arr}, None
    # structs, lists and anything else: JSON text
    return {
        "json": pa.array([None if v is None else json_text(v) for v in values], pa.string())
    }, None


def _mixed(values: Sequence[Any]) -> tuple[dict[str, pa.Array], pa.Array | None]:
    """Slow path: classify value by value (mixed types in one column)."""
    n = len(values)
    buckets: dict[str, list[Any]] = {}

    def put(kind: str, i: int, v: Any) -> None:
        b = buckets.get(kind)
        if b is None:
            b = buckets[kind] = [None] * n
        b[i] = v

    for i, v in enumerate(values):
        if v is None:
            continue
        t = type(v)
        if t is bool:
            put("bool", i, v)
        elif t is int or (isinstance(v, int) and not isinstance(v, bool)):
            if INT64_MIN <= v <= INT64_MAX:
                put("bigint", i, int(v))
            elif -DECIMAL_MAX < v < DECIMAL_MAX:
                put("decimal", i, decimal.Decimal(int(v)))
            else:
                put("string", i, str(int(v)))
        elif t is float or isinstance(v, float):
            put("double", i, float(v))
        elif t is str or isinstance(v, str):
            put("string", i, str(v))
        elif isinstance(v, _dt.datetime):
            put("timestamp", i, v if v.tzinfo else v.replace(tzinfo=_dt.timezone.utc))
        elif isinstance(v, _dt.date):
            put("date", i, v)
        elif isinstance(v, decimal.Decimal):
            put("decimal", i, v)
        else:
            put("json", i, json_text(v))
    out: dict[str, pa.Array] = {}
    raw: pa.Array | None = None
    for kind, vals in buckets.items():
        if kind == "string":
            raw = pa.array(vals, pa.string())
            skind, typed = _classify_strings(raw)
            out[skind] = pc.coalesce(out[skind], typed) if skind in out else typed
        elif kind == "decimal":
            out[kind] = _decimal_array(vals)
        elif kind == "json":
            out[kind] = pa.array(vals, pa.string())
        else:
            arr = pa.array(vals, arrow_type(kind))
            out[kind] = pc.coalesce(out[kind], arr) if kind in out else arr
    return out, raw


def _decimal_array(vals: list[Any]) -> pa.Array:
    try:
        return pa.array(vals, pa.decimal128(INFERRED_DECIMAL_PRECISION, 0))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        exps = [v.as_tuple().exponent for v in vals if isinstance(v, decimal.Decimal)]
        scale = max((-e for e in exps if isinstance(e, int)), default=0)
        scale = max(0, min(int(scale), INFERRED_DECIMAL_PRECISION))
        return pa.array(vals, pa.decimal128(INFERRED_DECIMAL_PRECISION, scale))


def _has_bool(values: Sequence[Any]) -> bool:
    """Arrow infers `[0.5, True]` as double `[0.5, 1.0]`; a bool must stay a bool."""
    if True not in values and False not in values:  # C-speed; 0.0 and 1.0 match too
        return False
    return any(type(v) is bool for v in values)


def observe(values: Sequence[Any]) -> Observed:
    """Infer the types of one column's values (None = no value) for a batch.

    The common case (one Python type per column) is inferred by Arrow in C; only columns
    that mix types are classified value by value.
    """
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        arrays, raw = _mixed(values)
    else:
        if isinstance(arr, pa.ChunkedArray) or (  # more than 2 GB of text in one column
            pa.types.is_floating(arr.type) and _has_bool(values)
        ):
            arrays, raw = _mixed(values)
        else:
            arrays, raw = _from_arrow(arr, values)
    return observed(arrays, raw, len(values))


def observe_arrow(arr: pa.Array) -> Observed:
    """`observe` for a column that is already an Arrow array of a JSON scalar type (int64,
    double, bool, string or null, as `pyarrow.json` reads them): the same result as
    `observe` of the column's values as Python objects."""
    if not (
        pa.types.is_null(arr.type)
        or pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_boolean(arr.type)
        or pa.types.is_string(arr.type)
    ):
        raise TypeError(f"not a JSON scalar type: {arr.type}")
    if arr.null_count == len(arr):  # no value: what `pa.array` makes of Nones (a null array)
        return observed({}, None, len(arr))
    arrays, raw = _from_arrow(arr, ())
    return observed(arrays, raw, len(arr))


def observed(arrays: dict[str, pa.Array], raw: pa.Array | None, n: int) -> Observed:
    """`Observed` from per-type arrays of length `n`."""
    if not arrays:
        return Observed({}, None, False)
    if len(arrays) == 1:
        only = next(iter(arrays.values()))
        complete = only.null_count == 0
    else:
        valid_total = sum(len(a) - a.null_count for a in arrays.values())
        complete = valid_total == n
    ints = arrays.get("bigint")
    wide = ints is not None and wide_mask(ints) is not None
    return Observed(arrays, raw, complete, wide)
