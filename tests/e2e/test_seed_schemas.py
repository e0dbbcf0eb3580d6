"""The built-in connectors' declared schemas hold on Postgres and Parquet too: every hinted
column has its declared type (DECIMAL with its precision and scale for money), and money is the
API's exact decimal. (DuckDB: tests/e2e/test_seeds_duckdb.py.)"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from restsync.connectors import connector_module
from restsync.schema._naming import normalize_path

from .conftest import CONNECTORS
from .dest_helpers import column_types, query, reading, restsync_type
from .test_destinations_matrix import dataset_for, run, sandbox, url_for

__all__ = ["sandbox"]  # fixtures used here

DESTS = [pytest.param("postgres", marks=pytest.mark.postgres), "parquet"]


@pytest.mark.parametrize("kind", DESTS)
@pytest.mark.parametrize("name", CONNECTORS)
def test_declared_columns_have_their_types(
    tmp_path: Path, sandbox: Any, request: pytest.FixtureRequest, kind: str, name: str
) -> None:
    sb = sandbox(name)
    url = url_for(kind, tmp_path, request)
    dataset = dataset_for(name)
    run(tmp_path, sb, name, url, dataset)
    with reading(url):
        types = column_types(url, dataset)
        for resource, hints in connector_module(name).COLUMNS.items():
            for field, hint in hints.items():
                column = normalize_path(field)
                native = types[resource][column]
                assert restsync_type(native) == hint["data_type"], (resource, column, native)
                if kind == "parquet" and hint["data_type"] == "decimal":
                    assert native == f"decimal128({hint['precision']}, {hint['scale']})"
        if kind == "postgres":
            rows = query(
                url,
                dataset,
                "SELECT table_name, column_name, numeric_precision, numeric_scale, is_nullable "
                "FROM information_schema.columns WHERE table_schema = '" + dataset + "'",
            )
            stored = {(t, c): (p, s, n) for t, c, p, s, n in rows}
            for resource, hints in connector_module(name).COLUMNS.items():
                for field, hint in hints.items():
                    p, s, nullable = stored[(resource, normalize_path(field))]
                    if hint["data_type"] == "decimal":
                        assert (p, s) == (hint["precision"], hint["scale"]), (resource, field)
                    assert (nullable == "NO") == (hint.get("nullable") is False), (resource, field)
        if name == "ecommerce":
            expected = {r["id"]: Decimal(r["amount"]) for r in sb.expected("order_payments")}
            got = dict(query(url, dataset, "SELECT id, amount FROM {t:order_payments}"))
            assert got == expected
