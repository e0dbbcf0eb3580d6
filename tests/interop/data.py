"""The records every interop server serves: deterministic, a few hundred, with nested fields
(an object inside an object) and a list (a child table), and the check that a DuckDB
destination holds exactly them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

COLORS = ("red", "green", "blue", "amber")


def item(i: int, *, version: int = 1, name: str | None = None) -> dict[str, Any]:
    """Record `i`: scalars of each JSON type, a nested object two levels deep, a list."""
    return {
        "id": i,
        "name": name if name is not None else f"item {i:04d}",
        "price": round(i * 1.25 + 0.01, 2),
        "qty": (i * 7) % 50,
        "active": i % 3 != 0,
        "version": version,
        "meta": {"color": COLORS[i % len(COLORS)], "size": {"w": i % 11, "h": i % 13}},
        "tags": [f"t{i % 5}", f"g{i % 2}"][: 1 + i % 2],
    }


def items(n: int, start: int = 1) -> list[dict[str, Any]]:
    return [item(i) for i in range(start, start + n)]


def sql_row(r: dict[str, Any]) -> tuple[Any, ...]:
    """Record `r` as a row of the servers' SQLite tables (the object and the list as JSON text),
    in the column order id, name, price, qty, active, version, meta, tags."""
    return (
        r["id"],
        r["name"],
        r["price"],
        r["qty"],
        r["active"],
        r["version"],
        json.dumps(r["meta"]),
        json.dumps(r["tags"]),
    )


def merge_config(url: str, path: str, name: str, **endpoint: Any) -> dict[str, Any]:
    """One resource `name` at `path`, merged on `id`: the config every interop test starts from."""
    return {
        "client": {"base_url": url},
        "resources": [
            {
                "name": name,
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {"path": path, **endpoint},
            }
        ],
    }


#: Columns of the root table, from the source field they come from (dlt's `__` flattening).
ROOT_COLUMNS = {
    "id": ("id",),
    "name": ("name",),
    "price": ("price",),
    "qty": ("qty",),
    "active": ("active",),
    "version": ("version",),
    "meta__color": ("meta", "color"),
    "meta__size__w": ("meta", "size", "w"),
    "meta__size__h": ("meta", "size", "h"),
}


def _dig(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _typed(value: Any) -> tuple[str, Any]:
    """A value with its JSON kind, so that True never equals 1 nor 1 equals '1'."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    return (type(value).__name__, value)


def read_table(db: Path, dataset: str, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rel = con.sql(f'SELECT * FROM "{dataset}"."{table}"')
        return list(rel.columns), rel.fetchall()


def assert_exact(
    db: Path,
    dataset: str,
    table: str,
    expected: list[dict[str, Any]],
    *,
    bool_as_int: bool = False,
) -> None:
    """The root table and its `__tags` child table hold exactly `expected`: one row per id,
    every column equal to the served value (JSON kind included), no other data column, and
    each record's tags in order."""
    columns, rows = read_table(db, dataset, table)
    data_columns = sorted(c for c in columns if not c.startswith("_dlt_"))
    assert data_columns == sorted(ROOT_COLUMNS), f"{table}: columns {data_columns}"
    got: dict[Any, dict[str, Any]] = {}
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        assert values["id"] not in got, f"{table}: id {values['id']} loaded twice"
        got[values["id"]] = values
    want = {r["id"]: r for r in expected}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert (missing, extra) == ([], []), (
        f"{table}: {len(got)} rows for {len(want)} records; missing ids {missing[:20]}"
        f"{'...' if len(missing) > 20 else ''}, unexpected ids {extra[:20]}"
    )
    for key, record in want.items():
        row = got[key]
        for column, path in ROOT_COLUMNS.items():
            served = _dig(record, path)
            if bool_as_int and isinstance(served, bool):
                served = int(served)
            assert _typed(row[column]) == _typed(served), (
                f"{table} id {key}: column {column} holds {row[column]!r}, served {served!r}"
            )
    tag_columns, tag_rows = read_table(db, dataset, f"{table}__tags")
    by_parent: dict[str, list[tuple[int, Any]]] = {}
    for tag_row in tag_rows:
        values = dict(zip(tag_columns, tag_row, strict=True))
        by_parent.setdefault(values["_dlt_parent_id"], []).append(
            (values["_dlt_list_idx"], values["value"])
        )
    for key, record in want.items():
        tags = [v for _, v in sorted(by_parent.pop(got[key]["_dlt_id"], []))]
        assert tags == record["tags"], f"{table} id {key}: tags {tags}, served {record['tags']}"
    assert not by_parent, f"{table}__tags: rows of no loaded parent: {list(by_parent)[:5]}"
