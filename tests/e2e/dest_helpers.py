"""Destination-agnostic readers for the end-to-end matrix: DuckDB, Postgres and Parquet.

    snapshot("duckdb:///x.duckdb", "shop_data")   # {table: [row, ...]} sorted by _dlt_id
    snapshot("postgresql://...", "shop_data")
    snapshot("parquet:///lake", "shop_data")      # read with DuckDB read_parquet(union_by_name)

A row is a tuple of the table's columns in name order, `_dlt_load_id` left out (it differs
between runs by design). Bookkeeping tables (`_restsync_*`) are not data tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

EXCLUDED = {"_dlt_load_id"}


def kind_of(url: str) -> str:
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        return "postgres"
    if scheme in ("parquet", "file"):
        return "parquet"
    return "duckdb"


def _path(url: str) -> Path:
    rest = url.split(":", 1)[1]
    if rest.startswith("///"):
        return Path("/" + rest[3:])
    return Path(rest.lstrip("/"))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---- table names and column types ----------------------------------------------------------


def tables(url: str, dataset: str) -> list[str]:
    """The data tables of `dataset` (no bookkeeping), sorted."""
    kind = kind_of(url)
    if kind == "parquet":
        root = _path(url) / dataset
        if not root.is_dir():
            return []
        return sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("_"))
    rows = _sql(
        url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = {p}",
        (dataset,),
    )
    return sorted(str(r[0]) for r in rows if not str(r[0]).startswith("_"))


def column_types(url: str, dataset: str) -> dict[str, dict[str, str]]:
    """table -> column -> the destination's own type name (Arrow type for Parquet)."""
    kind = kind_of(url)
    out: dict[str, dict[str, str]] = {}
    if kind == "parquet":
        for t in tables(url, dataset):
            files = _parquet_files(url, dataset, t)
            cols: dict[str, str] = {}
            for f in files:
                for field in pq.read_schema(f):
                    cols.setdefault(field.name, str(field.type))
            out[t] = cols
        return out
    rows = _sql(
        url,
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = {p} ORDER BY table_name, ordinal_position",
        (dataset,),
    )
    for t, c, d in rows:
        if not str(t).startswith("_"):
            out.setdefault(str(t), {})[str(c)] = str(d)
    return out


_TO_RESTSYNC = {
    # duckdb
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "bool",
    "VARCHAR": "text",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "DATE": "date",
    "JSON": "json",
    # postgres
    "bigint": "bigint",
    "double precision": "double",
    "numeric": "decimal",
    "boolean": "bool",
    "text": "text",
    "timestamp with time zone": "timestamp",
    "date": "date",
    "jsonb": "json",
    # parquet (arrow); json is stored as text there
    "int64": "bigint",
    "double": "double",
    "bool": "bool",
    "string": "text",
    "timestamp[us, tz=UTC]": "timestamp",
    "date32[day]": "date",
}


def restsync_type(name: str) -> str:
    """A destination type name as restsync's data type (json -> text: Parquet has no json)."""
    if name.upper().startswith("DECIMAL") or name.startswith("decimal128"):
        return "decimal"
    t = _TO_RESTSYNC.get(name, f"?{name}")
    return "text" if t == "json" else t


# ---- rows ------------------------------------------------------------------------------------


def snapshot(url: str, dataset: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows, columns in name order, sorted by `_dlt_id`, no `_dlt_load_id`."""
    if kind_of(url) == "parquet":
        types = column_types(url, dataset)
        return {t: table_rows(url, dataset, t, types) for t in tables(url, dataset)}
    with reading(url):
        types = column_types(url, dataset)
        return {t: table_rows(url, dataset, t, types) for t in tables(url, dataset)}


def table_rows(
    url: str, dataset: str, table: str, types: dict[str, dict[str, str]] | None = None
) -> list[tuple[Any, ...]]:
    types = column_types(url, dataset) if types is None else types
    cols = sorted(c for c in types.get(table, {}) if c not in EXCLUDED)
    if not cols:
        return []
    sel = ", ".join(_q(c) for c in cols)
    if kind_of(url) == "parquet":
        files = _parquet_files(url, dataset, table)
        if not files:
            return []
        con = duckdb.connect()
        try:
            return con.execute(
                f"SELECT {sel} FROM read_parquet(?, union_by_name=true) ORDER BY _dlt_id",
                [[str(f) for f in files]],
            ).fetchall()
        finally:
            con.close()
    return _sql(url, f"SELECT {sel} FROM {_q(dataset)}.{_q(table)} ORDER BY _dlt_id")


def query(url: str, dataset: str, sql: str) -> list[tuple[Any, ...]]:
    """Run `sql` where `{t:NAME}` stands for the table NAME of `dataset` (Parquet: via DuckDB)."""
    import re

    def table_ref(m: re.Match[str]) -> str:
        name = m.group(1)
        if kind_of(url) == "parquet":
            files = ", ".join(f"'{f}'" for f in _parquet_files(url, dataset, name))
            return f"read_parquet([{files}], union_by_name=true)"
        return f"{_q(dataset)}.{_q(name)}"

    text = re.sub(r"\{t:([A-Za-z0-9_]+)\}", table_ref, sql)
    if kind_of(url) == "parquet":
        con = duckdb.connect()
        try:
            return con.execute(text).fetchall()
        finally:
            con.close()
    return _sql(url, text)


def _parquet_files(url: str, dataset: str, table: str) -> list[Path]:
    folder = _path(url) / dataset / table
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


class reading:
    """`with reading(url):` reuses one connection for the reads inside (opening a DuckDB
    file costs ~70 ms here). Parquet needs none: each read is an in-memory DuckDB."""

    current: dict[str, Any] = {}

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> reading:
        if self.url in reading.current:
            self.nested = True
            return self
        self.nested = False
        if kind_of(self.url) == "parquet":
            self.nested = True
            return self
        if kind_of(self.url) == "postgres":
            import psycopg

            reading.current[self.url] = psycopg.connect(self.url, autocommit=True)
        else:
            reading.current[self.url] = duckdb.connect(str(_path(self.url)), read_only=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.nested:
            reading.current.pop(self.url).close()


def _sql(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with reading(url):
        con = reading.current[url]
        if kind_of(url) == "postgres":
            with con.cursor() as cur:
                cur.execute(sql.replace("{p}", "%s").encode(), list(params) or None)
                return list(cur.fetchall())
        return list(con.execute(sql.replace("{p}", "?"), list(params)).fetchall())


def stored_state(url: str, dataset: str, pipeline: str) -> dict[str, dict[str, Any]]:
    """The committed incremental state, through the destination itself (any kind)."""
    from restsync.destinations._registry import destination_from_url

    dest = destination_from_url(url, pipeline_name=pipeline, dataset_name=dataset)
    dest.open()
    try:
        return dest.stored_state(pipeline)
    finally:
        dest.close()
