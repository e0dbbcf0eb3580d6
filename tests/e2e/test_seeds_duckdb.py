"""All five seed connectors end to end into DuckDB, against their sandbox APIs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from restsync.connectors import connector_module

from .conftest import CONNECTORS, run_connector, snapshot


def _pk(name: str, resource: str) -> str:
    return "order_id" if name == "orders" else "id"


def _db(tmp_path: Path, name: str) -> Path:
    return tmp_path / f"{name}.duckdb"


@pytest.mark.parametrize("name", CONNECTORS)
def test_seed_loads_exactly_the_sandbox_records(
    tmp_path: Path, sandbox_env: Any, name: str
) -> None:
    sb = sandbox_env(name)
    info = run_connector(tmp_path, sb, name)
    assert info.loaded, str(info)
    assert not info.failed_resources, str(info)
    con = duckdb.connect(str(_db(tmp_path, name)), read_only=True)
    dataset = f"{name}_data"
    try:
        for resource in connector_module(name).seed_config()["resources"]:
            rname = resource["name"]
            expected = sb.expected(rname)
            pk = _pk(name, rname)
            rows = con.execute(
                f'SELECT "{pk}", count(*) OVER () FROM "{dataset}"."{rname}"'
            ).fetchall()
            ids = [r[0] for r in rows]
            assert len(ids) == len(expected), rname
            assert len(set(ids)) == len(ids), f"duplicate keys in {rname}"
            assert {str(i) for i in ids} == {str(r[pk]) for r in expected}, rname
        # every child row links to a parent row
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [dataset]
            ).fetchall()
        ]
        children = [t for t in tables if "__" in t and not t.startswith("_")]
        for child in children:
            parent = child.rsplit("__", 1)[0]
            orphans = con.execute(
                f'SELECT count(*) FROM "{dataset}"."{child}" c LEFT JOIN "{dataset}"."{parent}" p '
                "ON c._dlt_parent_id = p._dlt_id WHERE p._dlt_id IS NULL"
            ).fetchone()
            assert orphans == (0,), f"{child} has rows without a parent in {parent}"
        # timestamps are timestamps, not text
        ts_types = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND column_name IN ('updated_at', 'last_modified_date', "
            "'created_at', 'modified_on')",
            [dataset],
        ).fetchall()
        assert ts_types, "no timestamp columns found"
        for table, column, dtype in ts_types:
            assert dtype.startswith("TIMESTAMP"), f"{table}.{column} is {dtype}"
    finally:
        con.close()


@pytest.mark.parametrize("name", CONNECTORS)
def test_running_twice_leaves_the_same_tables(tmp_path: Path, sandbox_env: Any, name: str) -> None:
    sb = sandbox_env(name)
    assert not run_connector(tmp_path, sb, name, incremental=False).failed_resources
    first = snapshot(_db(tmp_path, name), f"{name}_data")
    assert not run_connector(tmp_path, sb, name, incremental=False).failed_resources
    assert snapshot(_db(tmp_path, name), f"{name}_data") == first


@pytest.mark.parametrize("name", ["orders", "inventory", "commerce", "fulfillment"])
def test_incremental_rerun_requests_the_window_and_merges_changes(
    tmp_path: Path, sandbox_env: Any, name: str
) -> None:
    sb = sandbox_env(name)
    info = run_connector(tmp_path, sb, name)
    assert not info.failed_resources, str(info)
    module = connector_module(name)
    resource = module.seed_config()["resources"][0]["name"]
    inc = module.INCREMENTAL[resource]
    sb.mutate(resource, updates=4, inserts=3)
    seen_before = len(sb.requests)
    info2 = run_connector(tmp_path, sb, name)
    assert not info2.failed_resources, str(info2)
    new_requests = [r for r in sb.requests[seen_before:] if resource_path(sb, resource) in r.path]
    assert new_requests, "no request for the resource on the second run"
    assert all(inc["start_param"] in r.query for r in new_requests), new_requests[0]
    expected = sb.expected(resource)
    pk = _pk(name, resource)
    con = duckdb.connect(str(_db(tmp_path, name)), read_only=True)
    try:
        cursor = inc["cursor_path"]
        col = "modified_on" if cursor == "modifiedOn" else cursor
        rows = con.execute(f'SELECT "{pk}", "{col}" FROM "{name}_data"."{resource}"').fetchall()
    finally:
        con.close()
    assert len(rows) == len(expected)
    from restsync.extract._incremental import parse_instant

    by_key = {str(k): v for k, v in rows}
    for rec in expected:
        assert by_key[str(rec[pk])] == parse_instant(rec[cursor]), rec[pk]


def resource_path(sb: Any, resource: str) -> str:
    return str(sb.resources()[resource]).rstrip("/")


@pytest.mark.parametrize("name", CONNECTORS)
def test_clamped_pages_without_total_lose_nothing(
    tmp_path: Path, sandbox_env: Any, name: str
) -> None:
    """The API serves fewer records than asked (silently) and sends no total."""
    from restsync.sandbox import SandboxOptions

    # offset seeds ask 100/200, inventory asks 50: serve 30 per page, no total
    sb = sandbox_env(name, options=SandboxOptions(max_page_size=30, clamp=True, send_total=False))
    info = run_connector(tmp_path, sb, name)
    assert not info.failed_resources, str(info)
    con = duckdb.connect(str(_db(tmp_path, name)), read_only=True)
    try:
        for resource in connector_module(name).seed_config()["resources"]:
            rname = resource["name"]
            pk = _pk(name, rname)
            got = con.execute(f'SELECT "{pk}" FROM "{name}_data"."{rname}"').fetchall()
            assert sorted(str(r[0]) for r in got) == sorted(
                str(r[pk]) for r in sb.expected(rname)
            ), rname
    finally:
        con.close()


_DUCK_TYPES = {
    "bigint": "BIGINT",
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
}


@pytest.mark.parametrize("name", CONNECTORS)
def test_seed_columns_are_typed_as_the_connector_declares(
    tmp_path: Path, sandbox_env: Any, name: str
) -> None:
    from restsync.cli.show import show_pipeline
    from restsync.schema._naming import normalize_path

    sb = sandbox_env(name)
    info = run_connector(tmp_path, sb, name)
    assert not info.failed_resources, str(info)
    module = connector_module(name)
    con = duckdb.connect(str(_db(tmp_path, name)), read_only=True)
    dataset = f"{name}_data"
    try:
        stored = {
            (t, c): (d, n)
            for t, c, d, n in con.execute(
                "SELECT table_name, column_name, data_type, is_nullable "
                "FROM information_schema.columns WHERE table_schema = ?",
                [dataset],
            ).fetchall()
        }
        for resource, hints in module.COLUMNS.items():
            for field, hint in hints.items():
                column = normalize_path(field)
                dtype, nullable = stored[(resource, column)]
                if hint["data_type"] == "decimal":
                    want = f"DECIMAL({hint['precision']},{hint['scale']})"
                else:
                    want = _DUCK_TYPES[hint["data_type"]]
                assert dtype == want, f"{resource}.{column} is {dtype}, declared {want}"
                assert (nullable == "NO") == (hint.get("nullable") is False), (resource, column)
                # nothing went to a variant: every value fits the declared type
                assert (resource, f"{column}__v_text") not in stored
                assert (resource, f"{column}__v_double") not in stored
    finally:
        con.close()
    text = show_pipeline(name, f"duckdb:///{_db(tmp_path, name)}", dataset, schema=True)
    shown = yaml.safe_load(text.split("\nschema:\n", 1)[1])
    tables = {t["name"]: {c["name"]: c for c in t["columns"]} for t in shown["tables"]}
    for resource, hints in module.COLUMNS.items():
        for field, hint in hints.items():
            col = tables[resource][normalize_path(field)]
            for key in ("data_type", "precision", "scale"):
                assert col.get(key) == hint.get(key), (resource, field, key)
            assert col.get("nullable", True) == hint.get("nullable", True), (resource, field)
    if name == "inventory":
        # money is exact: the API's decimals, not doubles
        expected = {r["id"]: r for r in sb.expected("sales_orders")}
        con = duckdb.connect(str(_db(tmp_path, name)), read_only=True)
        try:
            got = con.execute(
                f'SELECT id, total, total_in_base_currency FROM "{dataset}".sales_orders'
            ).fetchall()
        finally:
            con.close()
        assert len(got) == len(expected)
        for i, total, in_base in got:
            assert total == Decimal(str(expected[i]["total"]))
            assert in_base == Decimal(expected[i]["total_in_base_currency"])
