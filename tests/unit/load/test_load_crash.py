"""A load killed at any step leaves the old committed state; rerunning converges."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rs_helpers import CHILD, ROOT, make_schema, order, rows, stage

from restsync.destinations._registry import destination_from_url
from restsync.load import load_stage

POINTS = ["before_ensure", "after_ensure", "mid_write", "before_commit", "mid_commit"]
CHILD_SCRIPT = Path(__file__).with_name("crash_child.py")


def _snapshot(url: str) -> tuple[Any, ...]:
    d = destination_from_url(url, pipeline_name="shop", dataset_name="shop")
    d.open()
    try:
        return (rows(d, ROOT), rows(d, CHILD), d.stored_state("shop"))
    finally:
        d.close()


CASES = [
    *(("duckdb", p) for p in POINTS[:-1]),
    *(("parquet", p) for p in POINTS),  # mid_commit: killed between file moves (roll forward)
    *(pytest.param("postgres", p, marks=pytest.mark.postgres) for p in POINTS[:-1]),
]


@pytest.mark.parametrize(("kind", "point"), CASES)
def test_kill_during_load(
    kind: str, point: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "duckdb":
        url = f"duckdb:///{tmp_path / 'd.duckdb'}"
    elif kind == "parquet":
        url = f"parquet:///{tmp_path / 'lake'}"
    else:
        # a fresh database per case keeps the dataset name fixed for the child process
        import psycopg

        base = request.getfixturevalue("postgres_url")
        db = f"crash_{os.getpid()}_{point}"
        with psycopg.connect(base, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{db}"')
            c.execute(f'CREATE DATABASE "{db}"')
        url = base.rsplit("/", 1)[0] + "/" + db
    s = make_schema("merge")
    first = stage(tmp_path / "st", "L1", s, [[order(1), order(2)]], {"orders": {"v": 1}})
    d = destination_from_url(url, pipeline_name="shop", dataset_name="shop")
    load_stage(d, first, "shop")
    d.close()
    old = _snapshot(url)
    second = stage(
        tmp_path / "st", "L2", s, [[order(1, name="b", items=3), order(3)]], {"orders": {"v": 2}}
    )
    proc = subprocess.run(
        [sys.executable, str(CHILD_SCRIPT), url, str(second.dir), point],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    after = _snapshot(url)
    if point == "mid_commit":
        # killed after the commit point: the reopened destination finished the commit
        assert after[2] == {"orders": {"v": 2}}
    else:
        assert after == old
    # running the same stage again converges to the new state, without duplicates
    d = destination_from_url(url, pipeline_name="shop", dataset_name="shop")
    load_stage(d, second, "shop")
    d.close()
    new = _snapshot(url)
    assert {r["id"]: r["name"] for r in new[0]} == {1: "b", 2: "a", 3: "a"}
    assert len(new[1]) == 7
    assert new[2] == {"orders": {"v": 2}}
