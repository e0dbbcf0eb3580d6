"""Hand-built normalizer output (dlt layout + `_restsync_seq`) and destination helpers."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from restsync.schema._model import Column, Schema, Table
from restsync.stage import StagedLoad, StageWriter, arrow_schema

ROOT = "orders"
CHILD = "orders__items"


def _h(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:14]


def make_schema(
    disposition: str = "append", *, amount: str = "bigint", extra: bool = False
) -> Schema:
    root = Table(ROOT, "orders", write_disposition=disposition)  # type: ignore[arg-type]
    if disposition == "merge":
        root.primary_key = ["id"]
    cols = [
        Column("id", "bigint", nullable=False, primary_key=disposition == "merge"),
        Column("name", "text"),
        Column("amount", amount),  # type: ignore[arg-type]
        Column("updated_at", "timestamp"),
        Column("meta", "json"),
    ]
    if extra:
        cols.append(Column("note", "text"))
    cols += [
        Column("_dlt_load_id", "text", nullable=False),
        Column("_dlt_id", "text", nullable=False),
    ]
    root.columns = {c.name: c for c in cols}
    child = Table(CHILD, "orders", parent=ROOT, write_disposition=disposition)  # type: ignore[arg-type]
    ccols = [
        Column("sku", "text"),
        Column("qty", "bigint"),
        Column("_dlt_parent_id", "text", nullable=False),
        Column("_dlt_list_idx", "bigint", nullable=False),
        Column("_dlt_id", "text", nullable=False),
    ]
    if disposition == "merge":
        ccols.append(Column("_dlt_root_id", "text", nullable=False))
    child.columns = {c.name: c for c in ccols}
    return Schema("shop", {ROOT: root, CHILD: child})


def normalize(
    records: list[dict[str, Any]], schema: Schema, load_id: str, seq_start: int
) -> dict[str, pa.Table]:
    """What the normalizer gives for a page: root and child Arrow tables."""
    root_t, child_t = schema.tables[ROOT], schema.tables[CHILD]
    merge = root_t.write_disposition == "merge"
    roots: list[dict[str, Any]] = []
    kids: list[dict[str, Any]] = []
    for i, rec in enumerate(records):
        seq = seq_start + i
        rid = _h("k", rec["id"]) if merge else _h(rec, load_id, seq)
        row = {c: rec.get(c) for c in root_t.columns if not c.startswith("_dlt")}
        if isinstance(row.get("meta"), (dict, list)):
            row["meta"] = json.dumps(row["meta"])
        row.update(_dlt_id=rid, _dlt_load_id=load_id, _restsync_seq=seq)
        roots.append(row)
        for idx, item in enumerate(rec.get("items", [])):
            kid = {
                "sku": item["sku"],
                "qty": item["qty"],
                "_dlt_parent_id": rid,
                "_dlt_list_idx": idx,
                "_dlt_id": _h(rid, idx) if merge else _h(rid, idx, load_id),
                "_restsync_seq": seq,
            }
            if merge:
                kid["_dlt_root_id"] = rid
            kids.append(kid)
    out = {ROOT: pa.Table.from_pylist(roots, schema=arrow_schema(root_t, with_seq=True))}
    if kids:
        out[CHILD] = pa.Table.from_pylist(kids, schema=arrow_schema(child_t, with_seq=True))
    return out


def ts(day: int) -> datetime:
    return datetime(2024, 1, day, 12, 0, tzinfo=timezone.utc)


def order(i: int, name: str = "a", items: int = 2, amount: Any = None, **kw: Any) -> dict[str, Any]:
    return {
        "id": i,
        "name": name,
        "amount": i * 10 if amount is None else amount,
        "updated_at": ts(1 + i % 27),
        "meta": {"k": i},
        "items": [{"sku": f"{name}-{i}-{j}", "qty": j} for j in range(items)],
        **kw,
    }


def stage(
    root: Path,
    load_id: str,
    schema: Schema,
    pages: list[list[dict[str, Any]]],
    state: dict[str, dict[str, Any]] | None = None,
    schemas: list[Schema] | None = None,
) -> StagedLoad:
    """Stage `pages` (optionally each normalized with its own schema) and complete."""
    w = StageWriter(root, load_id, flush_rows=3)
    seq = 0
    for n, page in enumerate(pages):
        sch = schemas[n] if schemas else schema
        for name, tbl in normalize(page, sch, load_id, seq).items():
            w.write(name, tbl)
        seq += len(page)
    return w.complete(schema, state or {"orders": {"last_value": load_id}}, {"orders": seq})


def rows(dest: Any, table: str, order_by: str = "_dlt_id") -> list[dict[str, Any]]:
    """All rows of `table` in the destination, as dicts sorted by `order_by`."""
    name = getattr(dest, "name", "")
    if name == "parquet":
        folder = Path(dest.path) / dest.dataset_name / table
        files = sorted(str(p) for p in folder.glob("*.parquet")) if folder.exists() else []
        if not files:
            return []
        con = duckdb.connect()
        rel = con.sql(
            f"SELECT * FROM read_parquet({files!r}, union_by_name=true) ORDER BY {order_by}"
        )
    elif name == "duckdb":
        con = dest.con
        if not dest._table_exists(table):
            return []
        rel = con.sql(f'SELECT * FROM "{dest.dataset_name}"."{table}" ORDER BY {order_by}')
    else:
        if not dest._table_exists(table):
            return []
        with dest.conn.cursor() as cur:
            cur.execute(f'SELECT * FROM "{dest.dataset_name}"."{table}" ORDER BY {order_by}')
            cols = [d.name for d in cur.description]
            result = [dict(zip(cols, r, strict=False)) for r in cur.fetchall()]
        dest.conn.rollback()
        return [_norm(r) for r in result]
    return [_norm(r) for r in rel.to_arrow_table().to_pylist()]


def _norm(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if k == "meta" and isinstance(v, str):
            v = json.loads(v)
        if isinstance(v, datetime):
            v = v.astimezone(timezone.utc)
        out[k] = v
    return out
