"""Crash safety: SIGKILL `restsync run` at named points, rerun, compare with an uninterrupted run.

The short form (always) tries a spread of kill points on DuckDB; `RESTSYNC_LONG=1` tries every
page of the run and the load-transaction points on DuckDB and Postgres.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from .conftest import snapshot

LONG = bool(os.environ.get("RESTSYNC_LONG"))
NAME = "inventory"
RECORDS = 60  # 20 resources x 2 pages of 50 (last page short)

LOAD_POINTS = [
    ("stage_complete", 1),
    ("load_begin", 1),
    ("load_table", 1),
    ("load_table", 7),
    ("before_commit", 1),
    ("after_commit", 1),
]
PAGE_POINTS = [("page", n) for n in (range(1, 41) if LONG else (1, 7, 23, 39))]
POINTS = PAGE_POINTS + LOAD_POINTS


def run_cli(
    cwd: Path, sb: Any, dest: str, kill_at: str | None = None, normalize: str = "auto"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RESTSYNC_KILL_AT"}
    env.update(sb.env())
    env["RESTSYNC_NORMALIZE"] = normalize
    if kill_at:
        env["RESTSYNC_KILL_AT"] = kill_at
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "restsync.cli.main",
            "run",
            NAME,
            "--base-url",
            sb.base_url,
            "--destination",
            dest,
            "--quiet",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def state_rows(db: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            f'SELECT resource, state FROM "{NAME}_data"."_restsync_state" ORDER BY resource'
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from restsync.sandbox import Sandbox

    with Sandbox(NAME, records=RECORDS) as sb:
        cwd = tmp_path_factory.mktemp("reference")
        db = cwd / "ref.duckdb"
        done = run_cli(cwd, sb, f"duckdb:///{db}")
        assert done.returncode == 0, done.stderr
        yield sb, snapshot(db, f"{NAME}_data"), state_rows(db)


CASES = [(p, n, "auto") for p, n in POINTS] + [
    ("page", 23, "worker"),
    ("stage_complete", 1, "worker"),
    ("load_table", 1, "worker"),
]


@pytest.mark.parametrize(
    ("point", "n", "normalize"), CASES, ids=[f"{p}-{n}-{m}" for p, n, m in CASES]
)
def test_kill_then_rerun_converges(
    tmp_path: Path, reference: Any, point: str, n: int, normalize: str
) -> None:
    sb, expected_tables, expected_state = reference
    db = tmp_path / "killed.duckdb"
    dest = f"duckdb:///{db}"
    killed = run_cli(tmp_path, sb, dest, kill_at=f"{point}:{n}", normalize=normalize)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    if db.exists() and point in (
        "page",
        "stage_complete",
        "load_begin",
        "load_table",
        "before_commit",
    ):
        # nothing of the killed run may be visible
        con = duckdb.connect(str(db), read_only=True)
        try:
            visible = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
                "AND table_name = 'customers'",
                [f"{NAME}_data"],
            ).fetchone()
        finally:
            con.close()
        if visible and visible[0]:
            assert snapshot(db, f"{NAME}_data").get("customers") in ([], None)
    rerun = run_cli(tmp_path, sb, dest, normalize=normalize)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert snapshot(db, f"{NAME}_data") == expected_tables
    assert state_rows(db) == expected_state
