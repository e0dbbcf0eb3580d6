"""No number is rounded and no bool becomes a number: wide ints, decimals, bools, -0.0, nan."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from restsync.schema._evolve import conform, schema_types
from restsync.schema._model import Schema
from restsync.schema._normalize import Normalizer

WIDE = 2**53 + 1


def _run(batches: list[list[dict[str, Any]]]) -> tuple[Schema, list[dict[str, Any]]]:
    schema = Schema("s")
    norm = Normalizer(schema, "r", "r")
    parts: list[pa.Table] = []
    seq = 0
    for b in batches:
        parts.extend(t for n, t in norm.normalize(b, "l", seq).items() if n == "r")
        seq += len(b)
    table = pa.concat_tables([conform(p, schema.tables["r"]) for p in parts])
    return schema, sorted(table.to_pylist(), key=lambda r: r["_restsync_seq"])


@pytest.mark.parametrize(
    "batches",
    [
        [[{"a": WIDE}], [{"a": 0.5}]],
        [[{"a": 0.5}], [{"a": WIDE}]],
        [[{"a": WIDE}, {"a": 0.5}]],
    ],
)
def test_wide_int_next_to_a_double_goes_to_a_decimal_variant(
    batches: list[list[dict[str, Any]]],
) -> None:
    schema, rows = _run(batches)
    cols = {c.name: c.data_type for c in schema.tables["r"].columns.values()}
    assert cols["a"] == "double"
    assert cols["a__v_decimal"] == "decimal"
    values = [r["a"] if r["a"] is not None else r["a__v_decimal"] for r in rows]
    assert Decimal(WIDE) in values
    assert 0.5 in values


def test_schema_does_not_depend_on_batch_order_with_wide_ints() -> None:
    batches = [[{"a": WIDE, "b": 1}], [{"a": 1.5, "b": True}], [{"a": 3, "b": 2**63 - 1}]]
    schemas = [schema_types(_run(list(order))[0]) for order in itertools.permutations(batches)]
    assert all(s == schemas[0] for s in schemas)
    assert set(schemas[0]["r"]) >= {"a", "a__v_decimal", "b", "b__v_bool"}


def test_small_ints_still_promote_to_double() -> None:
    schema, rows = _run([[{"a": 2**53}, {"a": -(2**53)}, {"a": 0.5}]])
    assert "a__v_decimal" not in schema.tables["r"].columns
    assert [r["a"] for r in rows] == [2.0**53, -(2.0**53), 0.5]


def test_bool_never_becomes_a_number() -> None:
    for batch in ([{"a": 0.5}, {"a": True}], [{"a": 1}, {"a": True}], [{"a": [0.0, False]}]):
        schema = Schema("s")
        out = Normalizer(schema, "r", "r").normalize(batch, "l", 0)
        bools = [
            v
            for t in out.values()
            for name in t.column_names
            if name.endswith("__v_bool")
            for v in t.column(name).to_pylist()
            if v is not None
        ]
        assert len(bools) == 1, (batch, {n: t.to_pylist() for n, t in out.items()})


def test_decimal_values_are_not_rounded_into_a_double() -> None:
    schema, rows = _run([[{"a": Decimal("0.1")}, {"a": 0.5}, {"a": 10**30}]])
    cols = {c.name: c.data_type for c in schema.tables["r"].columns.values()}
    assert cols == {**cols, "a": "double", "a__v_decimal": "decimal"}
    assert rows[2]["a__v_decimal"] == Decimal(10**30)


def test_negative_zero_nan_and_infinities_round_trip() -> None:
    vals = [-0.0, math.nan, math.inf, -math.inf, 1e-320]
    _, rows = _run([[{"a": v} for v in vals]])
    got = [r["a"] for r in rows]
    assert math.copysign(1, got[0]) == -1
    assert math.isnan(got[1])
    assert got[2:] == vals[2:]


@pytest.mark.parametrize(
    "value", ["0001-01-01T10:00+14:00", "9999-12-31T23:00-12:00", "0000-01-01"]
)
def test_timestamps_beyond_year_1_to_9999_stay_text(value: str) -> None:
    schema, rows = _run([[{"a": value}]])
    assert schema.tables["r"].columns["a"].data_type == "text"
    assert rows[0]["a"] == value
