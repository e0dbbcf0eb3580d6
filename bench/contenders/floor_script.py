"""The floor: the least a sync can do and still land flattened tables in DuckDB.

Sequential httpx, orjson, Python flattening (a nested object becomes `a__b` columns, a list
becomes a child table `items__<key>` with the parent's id and the list index; a list of
scalars gives a `value` column), Arrow tables every 100 pages, DuckDB inserts of those Arrow
tables in one transaction. No retries, no state, no type inference beyond Arrow's (timestamps
stay strings): what restsync must come close to while doing all of that.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import duckdb
import httpx
import orjson
import pyarrow as pa
from _common import DATASET, ITEMS_PATH, PAGE_SIZE, TABLE, emit, parse_args

PAGES_PER_BATCH = 100
Row = dict[str, Any]


def flatten(
    obj: Row,
    table: str,
    prefix: str,
    row: Row,
    parent_id: Any,
    children: defaultdict[str, list[Row]],
) -> None:
    for key, value in obj.items():
        if isinstance(value, dict):
            flatten(value, table, f"{prefix}{key}__", row, parent_id, children)
        elif isinstance(value, list):
            child_table = f"{table}__{prefix}{key}"
            for idx, item in enumerate(value):
                child: Row = {"_parent_id": parent_id, "_list_idx": idx}
                if isinstance(item, dict):
                    flatten(item, child_table, "", child, parent_id, children)
                else:
                    child["value"] = item
                children[child_table].append(child)
        else:
            row[f"{prefix}{key}"] = value


def to_arrow(rows: list[Row]) -> pa.Table:
    names = list(dict.fromkeys(k for row in rows for k in row))
    return pa.table({name: pa.array([row.get(name) for row in rows]) for name in names})


def insert(con: duckdb.DuckDBPyConnection, name: str, rows: list[Row]) -> None:
    arrow = to_arrow(rows)  # noqa: F841 - read by DuckDB's replacement scan below
    target = f'{DATASET}."{name}"'
    con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM arrow LIMIT 0")
    have = {r[0] for r in con.execute(f"DESCRIBE {target}").fetchall()}
    for col, ctype, *_ in con.execute("DESCRIBE SELECT * FROM arrow").fetchall():
        if col not in have:
            con.execute(f'ALTER TABLE {target} ADD COLUMN "{col}" {ctype}')
    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM arrow")


def main() -> None:
    args = parse_args(__doc__ or "")
    db_path = args.out / "floor.duckdb"
    db_path.unlink(missing_ok=True)
    headers = {"Authorization": f"Bearer {args.token}"}
    max_pages = args.records // PAGE_SIZE + 2  # bound: the data pages and the empty one
    started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
    con.execute("BEGIN")
    loaded = 0
    tables: defaultdict[str, list[Row]] = defaultdict(list)
    with httpx.Client(base_url=args.base_url, headers=headers, timeout=30.0) as client:
        for page in range(1, max_pages + 1):
            response = client.get(ITEMS_PATH, params={"page": page, "limit": PAGE_SIZE})
            response.raise_for_status()
            records = orjson.loads(response.content)["data"]
            for record in records:
                row: Row = {}
                flatten(record, TABLE, "", row, record["id"], tables)
                tables[TABLE].append(row)
            loaded += len(records)
            if not records or page % PAGES_PER_BATCH == 0:
                for name, rows in tables.items():
                    if rows:
                        insert(con, name, rows)
                tables.clear()
            if not records:
                break
    con.execute("COMMIT")
    con.close()
    seconds = time.perf_counter() - started
    emit(
        {
            "records": loaded,
            "seconds": seconds,
            "db": str(db_path),
            "schema": DATASET,
            "table": TABLE,
        }
    )


if __name__ == "__main__":
    main()
