"""restsync's DuckDB connection runs under a memory cap, which the environment can change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from restsync.destinations import _duckdb as duckdb_destination
from restsync.destinations._duckdb import MEMORY_LIMIT, MERGE_MEMORY_LIMIT, DuckDBDestination
from restsync.errors import LoadError
from restsync.load import load_stage
from restsync.schema._model import Column, Schema, Table
from restsync.stage import StageWriter


def _limit(dest: DuckDBDestination) -> str:
    rows = dest.con.execute("SELECT current_setting('memory_limit')").fetchall()
    return str(rows[0][0])


_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def _bytes(setting: str) -> float:
    """A memory size as DuckDB takes (`96MB`) or shows it (`91.5 MiB`), in bytes."""
    m = re.fullmatch(r"([0-9.]+)\s*([KMG]i?B|B)", setting.strip())
    assert m, setting
    return float(m[1]) * _UNITS[m[2]]


def _same_size(shown: str, limit: str) -> bool:
    """Whether DuckDB's shown setting is `limit` (it rounds to 0.1 of its unit)."""
    return abs(_bytes(shown) - _bytes(limit)) <= 0.001 * _bytes(limit) + 0.1 * 2**20


def _uncapped() -> float:
    """DuckDB's own memory limit on this machine (a share of its RAM)."""
    import duckdb

    con = duckdb.connect()
    try:
        return _bytes(str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]))
    finally:
        con.close()


def test_the_connection_is_capped_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", raising=False)
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    dest.open()
    try:
        limit = _limit(dest)
    finally:
        dest.close()
    assert _same_size(limit, MEMORY_LIMIT)
    # bounded: far below what DuckDB would take on its own (a share of the machine's RAM)
    assert _bytes(limit) < _bytes(MERGE_MEMORY_LIMIT) < _uncapped()


def test_the_environment_sets_another_cap_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", "1GB")
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    dest.open()
    capped = _limit(dest)
    dest.close()
    monkeypatch.setenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", "")
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    dest.open()
    default = _limit(dest)
    dest.close()
    assert _same_size(capped, "1GB")
    assert _same_size(default, f"{_uncapped():.0f}B")  # "": no cap of restsync's


def test_a_bad_cap_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", "lots")
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    with pytest.raises(LoadError, match=r"RESTSYNC_DUCKDB_MEMORY_LIMIT='lots': DuckDB refused"):
        dest.open()
    # the file is not left locked by the refused connection
    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT")
    dest.open()
    dest.close()


def _merge_stage(root: Path, load_id: str, n: int, version: str) -> object:
    """`n` rows of one merge table, each key staged twice (so the merge takes its window)."""
    import pyarrow as pa

    cols = {
        c.name: c
        for c in (
            Column("id", "bigint", primary_key=True),
            Column("v", "text"),
            Column("_dlt_id", "text"),
        )
    }
    schema = Schema("p", {"t": Table("t", "t", cols, write_disposition="merge")})
    schema.tables["t"].primary_key = ["id"]
    w = StageWriter(root, load_id)
    for half in (0, 1):
        ids = list(range(n))
        w.write(
            "t",
            pa.table(
                {
                    "id": pa.array(ids, pa.int64()),
                    "v": pa.array([f"{version}-{half}-{i:08d}" * 8 for i in ids]),
                    "_dlt_id": pa.array([f"{i:014d}" for i in ids]),
                    "_restsync_seq": pa.array([half * n + i for i in ids], pa.int64()),
                }
            ),
        )
    return w.complete(schema, {}, {})


def test_a_merge_is_written_under_its_own_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # ~2 x 60 MB of staged text, each key twice: the merge's window needs more than a small
    # insert cap (under 16 MB DuckDB runs out of memory); the merge has a cap of its own
    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(duckdb_destination, "MEMORY_LIMIT", "16MB")
    n = 200_000
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    first = load_stage(dest, _merge_stage(tmp_path / "s", "L1", n, "a"), "p")  # type: ignore[arg-type]
    again = load_stage(dest, _merge_stage(tmp_path / "s", "L2", n, "b"), "p")  # type: ignore[arg-type]
    assert (first.tables["t"].inserted, again.tables["t"].updated) == (n, n)
    got = dest.con.execute('SELECT count(*), count(DISTINCT id), min(v) FROM "shop"."t"').fetchall()
    limit = _limit(dest).replace(" ", "")
    dest.close()
    assert got[0][:2] == (n, n)
    assert str(got[0][2]).startswith("b-1-")  # the last staged version of each key won
    assert _same_size(limit, "16MB")  # back to the insert cap after the merge
    assert "loading it again" not in caplog.text


class _RunsOutOnce:
    """A DuckDB connection whose first windowed merge statement fails as DuckDB does when it
    runs out of memory; the memory limit in force at that moment is recorded."""

    def __init__(self, con: Any, failed: list[str]) -> None:
        self._con = con
        self._failed = failed

    def execute(self, sql: str, params: Any = None) -> Any:
        import duckdb

        if "row_number()" in sql and not self._failed:
            limit = self._con.execute("SELECT current_setting('memory_limit')").fetchall()
            self._failed.append(str(limit[0][0]).replace(" ", ""))
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")
        return self._con.execute(sql, params or [])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _run_out_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    failed: list[str] = []
    real = DuckDBDestination.con.fget  # type: ignore[attr-defined]
    monkeypatch.setattr(
        DuckDBDestination, "con", property(lambda self: _RunsOutOnce(real(self), failed))
    )
    return failed


def test_a_load_that_runs_out_of_memory_is_loaded_again_without_the_caps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", raising=False)
    failed = _run_out_once(monkeypatch)
    n = 1_000
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    first = load_stage(dest, _merge_stage(tmp_path / "s", "L1", n, "a"), "p")  # type: ignore[arg-type]
    assert first.tables["t"].inserted == n
    assert _same_size(failed[0], MERGE_MEMORY_LIMIT)  # the merge's cap
    assert "loading it again without the cap" in caplog.text
    assert _same_size(_limit(dest), f"{_uncapped():.0f}B")  # lifted: DuckDB's own limit
    got = dest.con.execute('SELECT count(*), min(v) FROM "shop"."t"').fetchall()
    dest.close()
    assert got[0][0] == n
    assert str(got[0][1]).startswith("a-1-")  # the last staged version of each key won


def test_the_environment_cap_is_kept_when_a_load_runs_out_of_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", "64MB")
    failed = _run_out_once(monkeypatch)
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    with pytest.raises(LoadError, match="Out of Memory") as raised:
        load_stage(dest, _merge_stage(tmp_path / "s", "L1", 1_000, "a"), "p")  # type: ignore[arg-type]
    # what ran out, in which table, and how to give it more
    assert "table 't' failed at write: DuckDB ran out of memory" in str(raised.value)
    assert "RESTSYNC_DUCKDB_MEMORY_LIMIT='64MB' is too small for this load" in str(raised.value)
    assert len(failed) == 1  # one attempt: the cap the user set stays
    assert _same_size(_limit(dest), "64MB")
    dest.close()


def test_the_steps_before_the_one_that_ran_out_are_replayed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # an append table is written before the merge that runs out of memory: the retry rolls
    # the transaction back and writes it again, so its rows are there once, with the merge's
    import pyarrow as pa

    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", raising=False)
    failed = _run_out_once(monkeypatch)
    n = 500
    stage = _merge_stage(tmp_path / "s", "L1", n, "a")
    schema = stage.schema  # type: ignore[attr-defined]
    cols = {"id": Column("id", "bigint"), "_dlt_id": Column("_dlt_id", "text")}
    tables = {"first": Table("first", "first", cols, write_disposition="append")}
    schema.tables = {**tables, **schema.tables}  # written before the merge table
    w = StageWriter(tmp_path / "s2", "L2")
    for batch in stage.read_table("t"):  # type: ignore[attr-defined]
        w.write("t", pa.Table.from_batches([batch]))
    w.write(
        "first",
        pa.table(
            {
                "id": pa.array(range(n), pa.int64()),
                "_dlt_id": pa.array([f"f{i}" for i in range(n)]),
                "_restsync_seq": pa.array(range(n), pa.int64()),
            }
        ),
    )
    staged = w.complete(schema, {}, {})
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    stats = load_stage(dest, staged, "p")
    counts = dest.con.execute(
        'SELECT (SELECT count(*) FROM "shop"."first"), (SELECT count(*) FROM "shop"."t")'
    ).fetchall()[0]
    dest.close()
    assert len(failed) == 1  # the merge ran out once, under its cap
    assert "loading it again without the cap" in caplog.text
    assert counts == (n, n)
    assert (stats.tables["first"].inserted, stats.tables["t"].inserted) == (n, n)
