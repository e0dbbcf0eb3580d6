"""Crash safety: SIGKILL `restsync run` at named points and at random moments, on DuckDB and
Postgres, rerun, and compare with an uninterrupted run, row for row; the incremental state must
never point past the data that was loaded.

Named points (`RESTSYNC_KILL_AT`, see restsync.faultpoints): `page:n` (extraction/staging),
`stage_complete`, `load_begin`, `load_table:n`, `before_commit`, `after_commit` (the load
transaction). Time kills: `os.kill(pid, SIGKILL)` after a delay drawn from a fixed seed.

Short form (`make test`): a spread of points. `RESTSYNC_LONG=1`: more than 50 points.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from restsync.sandbox import Sandbox

from .conftest import LONG, Figures, Reader

NAME = "inventory"
RECORDS = 60  # 20 resources x 2 pages of 50: 40 pages, 33 tables
SEED = 20261123

Point = tuple[str, str]  # (kind, spec): ("at", "page:3") or ("time", "<delay seconds>")


def _time_points(n: int, seed: int) -> list[Point]:
    rng = random.Random(seed)
    # delays as fractions of the reference run's duration, resolved at run time
    return [("time", f"{rng.uniform(0.1, 0.8):.3f}") for _ in range(n)]


if LONG:
    DUCK_POINTS: list[Point] = [
        *(("at", f"page:{n}") for n in range(1, 41, 3)),
        ("at", "stage_complete:1"),
        ("at", "load_begin:1"),
        *(("at", f"load_table:{n}") for n in (1, 4, 9, 17, 26, 33)),
        ("at", "before_commit:1"),
        ("at", "after_commit:1"),
        *_time_points(10, SEED),
    ]
    PG_POINTS: list[Point] = [
        *(("at", f"page:{n}") for n in range(2, 41, 6)),
        ("at", "stage_complete:1"),
        ("at", "load_begin:1"),
        *(("at", f"load_table:{n}") for n in (1, 12, 30)),
        ("at", "before_commit:1"),
        ("at", "after_commit:1"),
        *_time_points(8, SEED + 1),
    ]
    MUTATE_POINTS: list[Point] = [
        ("at", "page:4"),
        ("at", "stage_complete:1"),
        ("at", "load_table:2"),
        ("at", "before_commit:1"),
        ("at", "after_commit:1"),
        *_time_points(3, SEED + 2),
    ]
else:  # tests/e2e/test_kill_rerun.py adds more named points on DuckDB to `make test`
    DUCK_POINTS = [("at", "load_table:5"), ("at", "before_commit:1"), *_time_points(1, SEED)]
    PG_POINTS = [("at", "page:17"), ("at", "load_table:9"), ("at", "after_commit:1")]
    MUTATE_POINTS = [("at", "before_commit:1")]


def _ids(points: list[Point]) -> list[str]:
    return [f"{k}-{s}" for k, s in points]


# --------------------------------------------------------------------------- running


def _cmd(sb: Any, dest: str, dataset: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "restsync.cli.main",
        "run",
        NAME,
        "--base-url",
        sb.base_url,
        "--destination",
        dest,
        "--dataset",
        dataset,
        "--quiet",
    ]


def _env(sb: Any, kill_at: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RESTSYNC_KILL_AT"}
    env.update(sb.env())
    if kill_at:
        env["RESTSYNC_KILL_AT"] = kill_at
    return env


def run_ok(cwd: Path, sb: Any, dest: str, dataset: str) -> float:
    started = time.monotonic()
    done = subprocess.run(
        _cmd(sb, dest, dataset),
        cwd=cwd,
        env=_env(sb),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return time.monotonic() - started


def run_killed(cwd: Path, sb: Any, dest: str, dataset: str, point: Point, ref_time: float) -> bool:
    """Run and kill; True when the process died by SIGKILL (a time kill may come too late)."""
    kind, spec = point
    if kind == "at":
        done = subprocess.run(
            _cmd(sb, dest, dataset),
            cwd=cwd,
            env=_env(sb, spec),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr[-3000:])
        return True
    proc = subprocess.Popen(
        _cmd(sb, dest, dataset),
        cwd=cwd,
        env=_env(sb),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(float(spec) * ref_time)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        code = proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert code in (0, -signal.SIGKILL), code
    return code == -signal.SIGKILL


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def duck_ref(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Sandbox(NAME, records=RECORDS) as sb:
        cwd = tmp_path_factory.mktemp("duck-ref")
        dest = f"duckdb:///{cwd / 'ref.duckdb'}"
        took = run_ok(cwd, sb, dest, "ds")
        reader = Reader(dest, "ds")
        yield sb, reader.snapshot(), reader.state(), took


@pytest.fixture(scope="module")
def pg_ref(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Any:
    with Sandbox(NAME, records=RECORDS) as sb:
        cwd = tmp_path_factory.mktemp("pg-ref")
        dataset = f"ref_{uuid.uuid4().hex[:8]}"
        took = run_ok(cwd, sb, postgres_url, dataset)
        reader = Reader(postgres_url, dataset)
        yield sb, reader.snapshot(), reader.state(), took


def _check(
    tmp_path: Path,
    figures: Figures,
    sb: Any,
    dest: str,
    dataset: str,
    point: Point,
    ref: tuple[dict[str, Any], dict[str, Any]],
    took: float,
    label: str,
) -> None:
    expected_tables, expected_state = ref
    reader = Reader(dest, dataset)
    killed = run_killed(tmp_path, sb, dest, dataset, point, took)
    reader.assert_state_within_data()  # right after the kill
    run_ok(tmp_path, sb, dest, dataset)
    got = reader.snapshot()
    mismatched = sorted(
        t for t in set(got) | set(expected_tables) if got.get(t) != expected_tables.get(t)
    )
    figures.add(f"kill points tried: {label}", 1 if killed else 0)
    figures.add("kill points tried", 1 if killed else 0)
    figures.add("time kills that came after the run ended", 0 if killed else 1)
    figures.add("kill mismatches", 1 if mismatched or reader.state() != expected_state else 0)
    assert not mismatched, f"tables differ from the uninterrupted run: {mismatched}"
    assert reader.state() == expected_state
    reader.assert_state_within_data()


@pytest.mark.parametrize("point", DUCK_POINTS, ids=_ids(DUCK_POINTS))
def test_kill_duckdb(tmp_path: Path, figures: Figures, duck_ref: Any, point: Point) -> None:
    sb, tables, state, took = duck_ref
    dest = f"duckdb:///{tmp_path / 'killed.duckdb'}"
    _check(tmp_path, figures, sb, dest, "ds", point, (tables, state), took, "duckdb")


@pytest.mark.postgres
@pytest.mark.parametrize("point", PG_POINTS, ids=_ids(PG_POINTS))
def test_kill_postgres(
    tmp_path: Path, figures: Figures, pg_ref: Any, postgres_url: str, point: Point
) -> None:
    sb, tables, state, took = pg_ref
    dataset = f"k_{uuid.uuid4().hex[:8]}"
    _check(tmp_path, figures, sb, postgres_url, dataset, point, (tables, state), took, "postgres")


# --------------------------------------------------------------------------- mutate variant


@pytest.fixture(scope="module")
def mutate_ref(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The API changes between two runs: the reference is load 1, mutate, load 2 (no kill).
    Each test starts from a copy of the destination after load 1, kills load 2, and reruns."""
    with Sandbox(NAME, records=RECORDS) as sb:
        cwd = tmp_path_factory.mktemp("mutate-ref")
        first = cwd / "first.duckdb"
        run_ok(cwd, sb, f"duckdb:///{first}", "ds")
        state_before = Reader(f"duckdb:///{first}", "ds").state()
        sb.mutate(updates=4, inserts=3)
        ref = cwd / "ref.duckdb"
        shutil.copy(first, ref)
        took = run_ok(cwd, sb, f"duckdb:///{ref}", "ds")
        reader = Reader(f"duckdb:///{ref}", "ds")
        state_after = reader.state()
        assert state_after != state_before  # the second load moved the cursors
        yield sb, first, reader.snapshot(), state_after, state_before, took


@pytest.mark.parametrize("point", MUTATE_POINTS, ids=_ids(MUTATE_POINTS))
def test_kill_between_changes_duckdb(
    tmp_path: Path, figures: Figures, mutate_ref: Any, point: Point
) -> None:
    sb, first, tables, state_after, state_before, took = mutate_ref
    db = tmp_path / "killed.duckdb"
    shutil.copy(first, db)
    dest = f"duckdb:///{db}"
    reader = Reader(dest, "ds")
    killed = run_killed(tmp_path, sb, dest, "ds", point, took)
    # after the kill the state is the old one or the new one, never in between
    assert reader.state() in (state_before, state_after)
    reader.assert_state_within_data()
    run_ok(tmp_path, sb, dest, "ds")
    got = reader.snapshot()
    bad = got != tables or reader.state() != state_after
    figures.add("kill points tried: duckdb, API changed between runs", 1 if killed else 0)
    figures.add("kill points tried", 1 if killed else 0)
    figures.add("time kills that came after the run ended", 0 if killed else 1)
    figures.add("kill mismatches", 1 if bad else 0)
    assert got == tables
    assert reader.state() == state_after
