"""Fixtures shared by the unit tests: `dest`, one destination of each kind (DuckDB, Parquet and a
real Postgres), for the destinations, load and state tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


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
