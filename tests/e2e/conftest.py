"""End-to-end fixtures: a sandbox per connector, secrets in the environment, a pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from restsync.connectors import connector_source
from restsync.pipeline import Pipeline

CONNECTORS = ["fulfillment", "ecommerce", "orders", "commerce", "inventory"]
SMALL = {"fulfillment": 450, "ecommerce": 230, "orders": 650, "commerce": 60, "inventory": 75}


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Start a sandbox and put its secrets in the environment, as a user would."""
    from restsync.sandbox import Sandbox

    started: list[Any] = []

    def start(name: str, **kwargs: Any) -> Any:
        kwargs.setdefault("records", SMALL[name])
        sb = Sandbox(name, **kwargs)
        sb.__enter__()
        started.append(sb)
        for k, v in sb.env().items():
            monkeypatch.setenv(k, v)
        return sb

    yield start
    for sb in started:
        sb.__exit__(None, None, None)


def make_pipeline(tmp_path: Path, name: str, destination: str | None = None) -> Pipeline:
    dest = destination or f"duckdb:///{tmp_path / (name + '.duckdb')}"
    return Pipeline(name, dest, f"{name}_data", pipelines_dir=tmp_path / "pipelines")


def run_connector(tmp_path: Path, sb: Any, name: str, **kwargs: Any) -> Any:
    source = connector_source(
        name, base_url=sb.base_url, incremental=kwargs.pop("incremental", True)
    )
    return make_pipeline(tmp_path, name, kwargs.pop("destination", None)).run(source, **kwargs)


def table_rows(
    db: Path, dataset: str, table: str, order_by: str = "_dlt_id"
) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            f'SELECT * EXCLUDE (_dlt_load_id) FROM "{dataset}"."{table}" ORDER BY {order_by}'
        ).fetchall()
    except duckdb.BinderException:
        return con.execute(f'SELECT * FROM "{dataset}"."{table}" ORDER BY {order_by}').fetchall()
    finally:
        con.close()


def snapshot(db: Path, dataset: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows (bookkeeping load ids left out), for equality checks."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                "AND table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY 1",
                [dataset],
            ).fetchall()
        ]
    finally:
        con.close()
    return {n: table_rows(db, dataset, n) for n in names}
