"""Crash safety of the write strategies: SIGKILL `restsync run` inside the load of a merge by
merge_key (delete-insert), an scd2 load and a refresh, on DuckDB, Parquet and Postgres; after a
rerun the tables equal those of the same two runs without a kill.

Each case: run 1 (API data v1), then run 2 (v2) killed at a named point, then run 2 again.
Right after the kill the dataset is run 1's or run 2's, never in between. SCD2 validity
instants differ between loads by design; they are compared as load ordinals (1st, 2nd, ...
distinct instant).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ..e2e.dest_helpers import column_types, snapshot
from .conftest import LONG, Figures

VERSIONS: dict[str, list[list[dict[str, Any]]]] = {
    # merge by merge_key only: run 2 replaces day d1's rows and keeps d2's
    "merge_key": [
        [
            {"day": "d1", "v": 1, "tags": ["a"]},
            {"day": "d1", "v": 2},
            {"day": "d2", "v": 3, "tags": ["b", "c"]},
        ],
        [{"day": "d1", "v": 10, "tags": ["z"]}, {"day": "d3", "v": 4}],
    ],
    # scd2: key 1 changes, key 2 disappears, key 3 appears
    "scd2": [
        [{"k": 1, "c": "foo", "l": [1]}, {"k": 2, "c": "bar"}],
        [{"k": 1, "c": "foo2", "l": [2]}, {"k": 3, "c": "baz"}],
    ],
    # refresh of an append table: run 2 holds only run 2's rows
    "refresh": [
        [{"id": 1, "l": [1, 2]}, {"id": 2}, {"id": 3}],
        [{"id": 4, "l": [9]}, {"id": 5}],
    ],
}
RESOURCE: dict[str, dict[str, Any]] = {
    "merge_key": {"write_disposition": "merge", "merge_key": "day"},
    "scd2": {"write_disposition": {"disposition": "merge", "strategy": "scd2"}},
    "refresh": {},
}
POINTS: dict[str, list[str]] = {
    "merge_key": ["load_table:1"],
    "scd2": ["before_commit:1"],
    "refresh": ["load_refresh:1"],
}
if LONG:  # RESTSYNC_LONG=1: every load point, Parquet's commit roll-forward, all on Postgres
    for _points in POINTS.values():
        _points.extend(["load_begin:1", "load_table:1", "before_commit:1", "after_commit:1"])
    for _name in POINTS:
        POINTS[_name] = sorted(set(POINTS[_name]))
PARQUET_EXTRA = ["parquet_apply:1"] if LONG else []
CASES = [
    (dest, name, point)
    for dest in ("duckdb", "parquet", "postgres")
    for name in POINTS
    for point in POINTS[name] + (PARQUET_EXTRA if dest == "parquet" else [])
    if dest != "postgres" or LONG or name == "scd2"
]


class _Api:
    """Serves `/items` as version `self.version` of the case's data."""

    def __init__(self) -> None:
        self.data: list[dict[str, Any]] = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps({"data": api.data}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def api() -> Iterator[_Api]:
    a = _Api()
    yield a
    a.close()


def _config(tmp: Path, api: _Api, case: str) -> Path:
    path = tmp / f"{case}.json"
    resource = {"name": "items", "endpoint": {"path": "items"}, **RESOURCE[case]}
    config = {
        "client": {"base_url": api.base_url, "paginator": "single_page"},
        "resource_defaults": {"endpoint": {"data_selector": "data"}},
        "resources": [resource],
    }
    path.write_text(json.dumps(config))
    return path


def _run(
    cwd: Path, config: Path, dest: str, dataset: str, *, refresh: bool, kill_at: str | None
) -> int:
    """Run the config: in this process (no kill), or as `restsync run` killed at `kill_at`."""
    if kill_at is None:
        from restsync.cli.main import load_source
        from restsync.pipeline import Pipeline

        pipe = Pipeline("kw", dest, dataset, pipelines_dir=cwd / ".restsync" / "pipelines")
        info = pipe.run(load_source(str(config)), full_refresh=refresh)
        assert info.loaded
        assert not info.failed_resources, str(info)
        return 0
    cmd = [sys.executable, "-m", "restsync.cli.main", "run", str(config)]
    cmd += ["--destination", dest, "--dataset", dataset, "--pipeline", "kw", "--quiet"]
    if refresh:
        cmd.append("--full-refresh")
    env = {k: v for k, v in os.environ.items() if k != "RESTSYNC_KILL_AT"}
    if kill_at:
        env["RESTSYNC_KILL_AT"] = kill_at
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    if kill_at is None:
        assert done.returncode == 0, done.stderr[-3000:]
    return done.returncode


VALIDITY = {"_dlt_valid_from", "_dlt_valid_to"}
IDS = {"_dlt_id", "_dlt_parent_id", "_dlt_root_id"}


def _tables(dest: str, dataset: str, *, linked: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """The dataset's rows without row ids (those of rows without a primary key differ
    between two loads of the same data), sorted; SCD2 validity instants as load ordinals
    (see the module docstring). Every child row's root must be there."""
    got = snapshot(dest, dataset)
    types = column_types(dest, dataset)
    out: dict[str, list[tuple[Any, ...]]] = {}
    instants = sorted(
        {
            v
            for t, rows in got.items()
            for r in rows
            for c, v in zip(_cols(types, t), r, strict=True)
            if c in VALIDITY and v is not None
        }
    )
    ordinal = {v: i + 1 for i, v in enumerate(instants)}
    root_ids = {
        v
        for r in got.get("items", [])
        for c, v in zip(_cols(types, "items"), r, strict=True)
        if c == "_dlt_id"
    }
    for table, rows in got.items():
        cols = _cols(types, table)
        kept = []
        for r in rows:
            row = dict(zip(cols, r, strict=True))
            link = row.get("_dlt_root_id") or row.get("_dlt_parent_id")
            assert not linked or table == "items" or link in root_ids, f"{table}: orphan {row}"
            kept.append(
                tuple(
                    ordinal.get(v, v) if c in VALIDITY else v
                    for c, v in row.items()
                    if c not in IDS
                )
            )
        out[table] = sorted(kept, key=repr)
    return out


def _cols(types: dict[str, dict[str, str]], table: str) -> list[str]:
    return sorted(c for c in types.get(table, {}) if c != "_dlt_load_id")


def _dest(kind: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    if kind == "duckdb":
        return f"duckdb:///{tmp / 'k.duckdb'}"
    if kind == "parquet":
        return f"parquet:///{tmp / 'lake'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.mark.parametrize(
    ("kind", "case", "point"),
    [pytest.param(*c, marks=[pytest.mark.postgres] if c[0] == "postgres" else []) for c in CASES],
    ids=[f"{d}-{n}-{p}" for d, n, p in CASES],
)
def test_kill_inside_a_write_strategy_load(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    figures: Figures,
    api: _Api,
    kind: str,
    case: str,
    point: str,
) -> None:
    dest = _dest(kind, tmp_path, request)
    config = _config(tmp_path, api, case)
    refresh = case == "refresh"
    v1, v2 = VERSIONS[case]

    def two_runs(dataset: str, kill_at: str | None) -> tuple[Any, Any]:
        api.data = v1
        _run(tmp_path, config, dest, dataset, refresh=False, kill_at=None)
        first = _tables(dest, dataset)
        api.data = v2
        if kill_at is None:
            _run(tmp_path, config, dest, dataset, refresh=refresh, kill_at=None)
            return first, None
        code = _run(tmp_path, config, dest, dataset, refresh=refresh, kill_at=kill_at)
        assert code == -signal.SIGKILL, f"the run was not killed at {kill_at} (exit {code})"
        # a Parquet commit killed while its files move is rolled forward by the next open:
        # until then tables may be of either load (each one complete)
        midway = point.startswith("parquet_apply")
        after_kill = None if midway else _tables(dest, dataset)
        _run(tmp_path, config, dest, dataset, refresh=refresh, kill_at=None)
        return first, after_kill

    ref_ds, killed_ds = f"r_{uuid.uuid4().hex[:8]}", f"k_{uuid.uuid4().hex[:8]}"
    first, _ = two_runs(ref_ds, None)
    expected = _tables(dest, ref_ds)
    assert expected != first
    _, after_kill = two_runs(killed_ds, point)
    got = _tables(dest, killed_ds)
    figures.add(f"kill points tried: {kind}, write strategies", 1)
    figures.add("kill points tried", 1)
    ok = got == expected and after_kill in (first, got, None)
    figures.add("kill mismatches", 0 if ok else 1)
    if after_kill is not None:
        assert after_kill in (first, expected), "a killed load left a dataset in between"
    assert got == expected
