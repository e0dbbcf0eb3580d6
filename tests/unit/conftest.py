"""Fixtures shared by the unit tests: `dest`, one destination of each kind (DuckDB, Parquet and a
real Postgres), for the destinations, load and state tests."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).parent


def _load_pg() -> Any:
    if "restsync_tests_pg" in sys.modules:
        return sys.modules["restsync_tests_pg"]
    spec = importlib.util.spec_from_file_location("restsync_tests_pg", _HERE.parent / "pg.py")
    assert spec
    assert spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["restsync_tests_pg"] = mod
    spec.loader.exec_module(mod)
    return mod


postgres_url = _load_pg().postgres_url


def make_destination(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    from restsync.destinations._registry import destination_from_url

    dataset = f"ds_{uuid.uuid4().hex[:10]}"
    if kind == "duckdb":
        url = f"duckdb:///{tmp_path / 'dest.duckdb'}"
    elif kind == "parquet":
        url = f"parquet:///{tmp_path / 'lake'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return destination_from_url(url, pipeline_name="shop", dataset_name=dataset)


@pytest.fixture(params=["duckdb", "parquet", pytest.param("postgres", marks=pytest.mark.postgres)])
def dest(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    d = make_destination(request.param, tmp_path, request)
    d.open()
    yield d
    d.close()
