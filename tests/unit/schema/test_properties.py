"""Property tests: round-trip of leaf values, batch-order independence, id determinism."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import os
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from restsync.schema._evolve import conform, schema_types
from restsync.schema._model import DLT_ID, DLT_LIST_IDX, DLT_PARENT_ID, Schema
from restsync.schema._normalize import Normalizer

# "list": a key that can clash with the table of a list directly in a list (`<table>__list`)
KEYS = st.sampled_from(["a", "b", "c", "d", "list"])
TIMESTAMPISH = st.builds(
    lambda d, sep, t, frac, off: f"{d}{sep}{t}{frac}{off}",
    st.sampled_from(["2024-05-01", "1999-12-31", "2024-02-29", "0001-01-01", "9999-12-31"]),
    st.sampled_from(["T", " ", "t"]),
    st.sampled_from(["10:00", "23:59:59", "00:00:00", "23:59:60", "24:00:00"]),
    st.sampled_from(["", ".5", ".123456", ".1234567891"]),
    st.sampled_from(["", "Z", "z", "+00:00", "-00:00", "+05:45", "+14:00", "-12:00", "+2359"]),
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(),  # also beyond int64 and beyond 38 digits
    st.sampled_from([2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63), 2**64, 0, 1, -1]),
    st.floats(),  # nan, +-inf, -0.0
    st.text(alphabet="xyz ", max_size=5),
    TIMESTAMPISH,
    st.sampled_from(["2024-05-01", "1", "1.5", "true", "null", ""]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
RECORDS = st.lists(st.dictionaries(KEYS, VALUES, min_size=1, max_size=4), min_size=1, max_size=5)
# RESTSYNC_HYPOTHESIS_EXAMPLES=500 for a long local run (with --hypothesis-seed=...)
FAST = settings(
    max_examples=int(os.environ.get("RESTSYNC_HYPOTHESIS_EXAMPLES", "60")), deadline=None
)


def _tables(records: list[dict[str, Any]]) -> tuple[Schema, dict[str, list[dict[str, Any]]]]:
    schema = Schema("p")
    out = Normalizer(schema, "r", "r").normalize(records, "load", 0)
    return schema, {n: t.to_pylist() for n, t in out.items()}


def _same(a: Any, b: Any) -> bool:
    """`got` (a) holds `value` (b) exactly: no rounding, and a bool stays a bool."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(b, float):
        if not isinstance(a, float):
            return False
        if math.isnan(b):
            return math.isnan(a)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(b, int) and isinstance(a, float):
        # an int stored in a double column must round-trip exactly
        return abs(b) <= 2**53 and a == b
    if isinstance(b, str) and isinstance(a, (dt.datetime, dt.date)):
        return True  # timestamps are normalized to UTC; checked in the golden cases
    return bool(a == b)


def _found(row: dict[str, Any], column: str, value: Any) -> bool:
    for name, got in row.items():
        if (
            (name == column or name.startswith(column + "__v_"))
            and got is not None
            and (_same(got, value) or (isinstance(got, str) and got == str(value)))
        ):
            return True
    return False


def _json_same(got: Any, want: Any) -> bool:
    """JSON text `got` (parsed) holds `want` (nan/inf may be null: orjson writes them so)."""
    if isinstance(want, float) and not math.isfinite(want):
        return got is None or (isinstance(got, float) and _same(got, want))
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_json_same, got, want))
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and list(got) == [str(k) for k in want]
            and all(_json_same(got[str(k)], x) for k, x in want.items())
        )
    if isinstance(want, (bool, float)) or isinstance(got, (bool, float)):
        return _same(got, want)
    return bool(got == want)


def _stored_as_json(
    items: list[Any],
    row: dict[str, Any],
    column: str,
    table: str,
    tables: dict[str, list[dict[str, Any]]],
) -> bool:
    """The list `items` is kept as JSON text in `column` (or its json variant) of `row`: its
    table name is another list's (see `normalize`). Then no row of `table` links to `row`."""
    for name in (column, f"{column}__v_json"):
        got = row.get(name)
        if isinstance(got, str) and got[:1] == "[" and _json_same(json.loads(got), items):
            assert not [r for r in tables.get(table, []) if r[DLT_PARENT_ID] == row[DLT_ID]]
            return True
    return False


def _check(
    obj: Any,
    table: str,
    row: dict[str, Any],
    prefix: str,
    tables: dict[str, list[dict[str, Any]]],
    depth: int,
) -> None:
    for k, v in obj.items():
        col = f"{prefix}__{k}" if prefix else k
        if isinstance(v, dict):
            _check(v, table, row, col, tables, depth + 1)
        elif isinstance(v, list):
            if not _stored_as_json(v, row, col, f"{table}__{col}", tables):
                _check_list(v, f"{table}__{col}", row[DLT_ID], tables, depth + 1)
        elif v is not None:
            assert _found(row, col, v), (col, v, row)


def _check_list(
    items: list[Any],
    table: str,
    parent_id: str,
    tables: dict[str, list[dict[str, Any]]],
    depth: int,
) -> None:
    if not items:
        return
    children = sorted(
        (r for r in tables[table] if r[DLT_PARENT_ID] == parent_id),
        key=lambda r: r[DLT_LIST_IDX],
    )
    assert [r[DLT_LIST_IDX] for r in children] == list(range(len(items)))
    for item, crow in zip(items, children, strict=True):
        if isinstance(item, dict):
            _check(item, table, crow, "", tables, depth + 1)
        elif isinstance(item, list):
            if not _stored_as_json(item, crow, "value", f"{table}__list", tables):
                _check_list(item, f"{table}__list", crow[DLT_ID], tables, depth + 1)
        elif item is not None:
            assert _found(crow, "value", item), (item, crow)


@FAST
@given(RECORDS)
def test_round_trip_every_leaf_is_linked(records: list[dict[str, Any]]) -> None:
    _, tables = _tables(records)
    root = tables.get("r", [])
    assert len(root) == len(records)
    for rec, row in zip(records, root, strict=True):
        _check(rec, "r", row, "", tables, 0)


MIXED = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(-5, 5, allow_nan=False),
    st.booleans(),
    st.sampled_from(["abc", "2024-05-01", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00+02:00"]),
    st.dictionaries(KEYS, st.integers(0, 3), max_size=2),
    st.lists(st.integers(0, 3), max_size=2),
)
BATCH = st.lists(st.dictionaries(KEYS, MIXED, max_size=4), min_size=1, max_size=4)


@FAST
@given(st.lists(BATCH, min_size=2, max_size=4), st.randoms(use_true_random=False))
def test_final_schema_independent_of_batch_order(
    batches: list[list[dict[str, Any]]], rnd: Any
) -> None:
    def run(
        order: list[list[dict[str, Any]]],
    ) -> tuple[Schema, Normalizer, dict[str, list[pa.Table]]]:
        schema = Schema("p")
        norm = Normalizer(schema, "r", "r")
        produced: dict[str, list[pa.Table]] = {}
        seq = 0
        for b in order:
            for name, t in norm.normalize(b, "load", seq).items():
                produced.setdefault(name, []).append(t)
            seq += len(b)
        return schema, norm, produced

    shuffled = list(batches)
    rnd.shuffle(shuffled)
    s1, _, p1 = run(batches)
    s2, _, _ = run(shuffled)
    assert schema_types(s1) == schema_types(s2)
    # every table produced under an earlier schema conforms to the final one
    for name, parts in p1.items():
        final = pa.concat_tables([conform(t, s1.tables[name]) for t in parts])
        assert final.num_rows == sum(t.num_rows for t in parts)


@FAST
@given(RECORDS)
def test_dlt_id_is_deterministic(records: list[dict[str, Any]]) -> None:
    _, t1 = _tables(records)
    _, t2 = _tables(records)
    assert repr(t1) == repr(t2)  # repr: nan == nan
    for rows in t1.values():
        ids = [r[DLT_ID] for r in rows]
        assert all(len(i) == 14 for i in ids)
        assert len(set(ids)) == len(ids)


@FAST
@given(st.lists(st.integers(0, 50), min_size=1, max_size=20, unique=True))
def test_primary_key_ids_do_not_depend_on_position(keys: list[int]) -> None:
    recs = [{"id": k, "tags": ["a", "b"]} for k in keys]

    def ids(rs: list[dict[str, Any]]) -> dict[int, str]:
        out = Normalizer(
            Schema("p"), "r", "r", write_disposition="merge", primary_key="id"
        ).normalize(rs, "load", 0)
        return {r["id"]: r[DLT_ID] for r in out["r"].to_pylist()}

    assert ids(recs) == ids(list(reversed(recs)))


def _both_walks(
    records: list[dict[str, Any]], **options: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(columnar walk, row walk): tables and schema of one batch each way (same ids, values)."""
    from restsync.schema import _normalize as N
    from restsync.schema._normalize.state import Fallback

    def run() -> dict[str, Any]:
        schema = Schema("p")
        out = Normalizer(schema, "r", "r", **options).normalize(records, "load", 3)
        return {
            "schema": schema_types(schema),
            # column (and sibling table) order may differ where the first record lacks a key:
            # not part of the contract
            "tables": repr(
                sorted((n, [sorted(r.items()) for r in t.to_pylist()]) for n, t in out.items())
            ),
        }

    fast = run()
    original = N.Normalizer._walk_columns

    def refuse(self: Any, records: Any) -> None:
        raise Fallback

    N.Normalizer._walk_columns = refuse  # type: ignore[method-assign]
    try:
        slow = run()
    finally:
        N.Normalizer._walk_columns = original  # type: ignore[method-assign]
    return fast, slow


@FAST
@given(RECORDS)
def test_columnar_walk_equals_row_walk(records: list[dict[str, Any]]) -> None:
    fast, slow = _both_walks(records)
    assert fast == slow


@FAST
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=30, unique=True), RECORDS)
def test_columnar_walk_equals_row_walk_under_merge(
    keys: list[int], records: list[dict[str, Any]]
) -> None:
    recs = [{**r, "id": k} for k, r in zip(keys, itertools.cycle(records), strict=False)]
    fast, slow = _both_walks(recs, write_disposition="merge", primary_key="id")
    assert fast == slow


# A key holding an object in some records and a list in others, with lists below: two
# origins of one child table name (`r__c__a`: the list `a` of the object `c` and the lists `a`
# in the items of `c`; `r__c__list`: a list in a list and a list at a key `list`).
CLASH_LEAVES = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["x", 2**60, 0.5]))
CLASH_VALUES = st.recursive(
    CLASH_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "list"]), inner, max_size=2),
    ),
    max_leaves=8,
)
CLASH_RECORDS = st.lists(st.fixed_dictionaries({"c": CLASH_VALUES}), min_size=2, max_size=6)


def _split_tables(
    batches: list[list[dict[str, Any]]],
) -> tuple[Normalizer, dict[str, list[dict[str, Any]]]]:
    """The batches normalized one after the other by one normalizer, conformed to the final
    schema (as the stage reads them back)."""
    schema = Schema("p")
    norm = Normalizer(schema, "r", "r")
    produced: dict[str, list[pa.Table]] = {}
    seq = 0
    for b in batches:
        for name, t in norm.normalize(b, "load", seq).items():
            produced.setdefault(name, []).append(t)
        seq += len(b)
    tables = {
        name: pa.concat_tables([conform(t, schema.tables[name]) for t in parts]).to_pylist()
        for name, parts in produced.items()
    }
    for name, t in schema.tables.items():  # one origin per table: every row's parent is there
        if t.parent is not None and name in tables:
            parents = {r[DLT_ID] for r in tables.get(t.parent, [])}
            assert all(r[DLT_PARENT_ID] in parents for r in tables[name]), name
    return norm, tables


@FAST
@given(CLASH_RECORDS, st.integers(1, 5))
def test_table_name_clashes_lose_no_row(records: list[dict[str, Any]], cut: int) -> None:
    batches = [records[:cut], records[cut:]] if cut < len(records) else [records]
    for bs in ([records], batches, [list(reversed(records))]):
        _, tables = _split_tables(bs)
        flat = [r for b in bs for r in b]
        root = tables.get("r", [])
        assert len(root) == len(flat)
        for rec, row in zip(flat, root, strict=True):
            _check(rec, "r", row, "", tables, 0)


@FAST
@given(CLASH_RECORDS)
def test_table_name_clashes_do_not_depend_on_record_order(records: list[dict[str, Any]]) -> None:
    n1, _ = _split_tables([records])
    n2, _ = _split_tables([list(reversed(records))])
    assert schema_types(n1.schema) == schema_types(n2.schema)
    assert {(t.name, t.parent) for t in n1.schema.tables.values()} == {
        (t.name, t.parent) for t in n2.schema.tables.values()
    }


@FAST
@given(CLASH_RECORDS)
def test_columnar_walk_equals_row_walk_with_clashes(records: list[dict[str, Any]]) -> None:
    fast, slow = _both_walks(records)
    assert fast == slow
