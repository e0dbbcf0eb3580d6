"""The DuckDB settings a load changes (threads, memory cap) are changed only when they must
be, are in force for the statements that need them, and are back when the load ends."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from restsync.destinations._duckdb import MEMORY_LIMIT, MERGE_MEMORY_LIMIT, DuckDBDestination
from restsync.load import load_stage
from restsync.schema._model import Column, Schema, Table
from restsync.stage import StageWriter


class _Recording:
    """A DuckDB connection that records, for each statement, the settings in force."""

    def __init__(self, con: Any, log: list[tuple[str, str, str, str]]) -> None:
        self._con = con
        self._log = log

    def execute(self, sql: str, params: Any = None) -> Any:
        row = self._con.execute(
            "SELECT current_setting('threads'), current_setting('memory_limit')"
        ).fetchall()[0]
        words = sql.split()
        kind, target = " ".join(words[:2]).upper(), (words[2:3] or [""])[0]
        self._log.append((kind, target, str(row[0]), str(row[1]).replace(" ", "")))
        return self._con.execute(sql, params or [])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str, str]]:
    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", raising=False)
    entries: list[tuple[str, str, str, str]] = []
    real = DuckDBDestination.con.fget  # type: ignore[attr-defined]
    monkeypatch.setattr(
        DuckDBDestination, "con", property(lambda self: _Recording(real(self), entries))
    )
    return entries


def _stage(root: Path, load_id: str, disposition: str, n: int, tables: int = 3) -> Any:
    schema = Schema("p")
    w = StageWriter(root, load_id)
    for t in range(tables):
        name = f"t{t}"
        cols = {
            c.name: c for c in (Column("id", "bigint", primary_key=True), Column("_dlt_id", "text"))
        }
        schema.tables[name] = Table(name, name, cols, write_disposition=disposition)  # type: ignore[arg-type]
        schema.tables[name].primary_key = ["id"] if disposition == "merge" else []
        ids = list(range(n))
        w.write(
            name,
            pa.table(
                {
                    "id": pa.array(ids, pa.int64()),
                    "_dlt_id": pa.array(
                        [f"{load_id}-{i}" if disposition != "merge" else str(i) for i in ids]
                    ),
                    "_restsync_seq": pa.array(ids, pa.int64()),
                }
            ),
        )
    return w.complete(schema, {}, {})


def _settings(dest: DuckDBDestination) -> tuple[str, str]:
    row = dest.con._con.execute(  # type: ignore[attr-defined]
        "SELECT current_setting('threads'), current_setting('memory_limit')"
    ).fetchall()[0]
    return str(row[0]), str(row[1]).replace(" ", "")


def _mb(limit: str) -> set[str]:
    mib = int(limit.removesuffix("MB")) * 1000 * 1000 / 1024 / 1024
    return {limit, f"{mib:.1f}MiB", f"{math.floor(mib * 10) / 10:.1f}MiB"}


def _on_two_threads(tmp_path: Path) -> DuckDBDestination:
    """A destination whose DuckDB runs on two threads (whatever this machine has)."""
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    dest.open()
    dest.con.execute("SET threads = 2")
    dest._threads = 2
    dest._in_force["threads"] = "2"
    return dest


def _on_data_tables(log: list[tuple[str, str, str, str]], kind: str) -> list[Any]:
    """The logged statements of `kind` on the three data tables (not the bookkeeping)."""
    return [e for e in log if e[0] == kind and '."t' in e[1]]


def test_small_tables_written_new_are_written_on_one_thread(
    tmp_path: Path, log: list[tuple[str, str, str, str]]
) -> None:
    dest = _on_two_threads(tmp_path)
    log.clear()
    load_stage(dest, _stage(tmp_path / "s", "L1", "merge", 100), "p")
    inserts = _on_data_tables(log, "INSERT INTO")
    assert len(inserts) == 3
    assert all(threads == "1" for _, _, threads, _ in inserts)
    # the settings hold for the whole load: one thread and the insert cap for every statement
    # from the first table's write to the last one's, none put back between two tables
    first, last = log.index(inserts[0]), log.index(inserts[-1])
    in_force = {(t, m) for _, _, t, m in log[first : last + 1]}
    assert in_force == {(t, m) for _, _, t, m in inserts}
    assert _settings(dest)[0] == "2"  # all threads again once the load committed
    assert _settings(dest)[1] in _mb(MEMORY_LIMIT)
    dest.close()


@pytest.mark.parametrize(
    ("disposition", "statement", "threads", "cap"),
    [
        # a merge reads the stored rows (joins, delete): all threads, under the merge cap
        ("merge", "DELETE FROM", "2", MERGE_MEMORY_LIMIT),
        # an append of small batches only inserts: one thread, under the insert cap
        ("append", "INSERT INTO", "1", MEMORY_LIMIT),
    ],
)
def test_a_second_load_into_stored_tables(
    tmp_path: Path,
    log: list[tuple[str, str, str, str]],
    disposition: str,
    statement: str,
    threads: str,
    cap: str,
) -> None:
    dest = _on_two_threads(tmp_path)
    load_stage(dest, _stage(tmp_path / "s", "L1", disposition, 100), "p")
    log.clear()
    again = load_stage(dest, _stage(tmp_path / "s", "L2", disposition, 100), "p")  # tables exist
    written = _on_data_tables(log, statement)
    assert len(written) == 3, log
    assert all(t == threads and m in _mb(cap) for _, _, t, m in written)
    assert _settings(dest)[0] == "2"  # all threads again after the load
    assert _settings(dest)[1] in _mb(MEMORY_LIMIT)  # the insert cap again after the load
    got = dest.con._con.execute('SELECT count(*) FROM "shop"."t0"').fetchall()  # type: ignore[attr-defined]
    dest.close()
    if disposition == "merge":
        assert again.tables["t0"].updated == 100
        assert got == [(100,)]
    else:
        assert got == [(200,)]


def test_the_commit_writes_the_load_into_the_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no write-ahead log left to replay once COMMIT returned: the file alone holds the load
    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", raising=False)
    path = tmp_path / "d.duckdb"
    dest = DuckDBDestination(path, "shop")
    load_stage(dest, _stage(tmp_path / "s", "L1", "append", 100), "p")
    wal = path.with_name(path.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0
    dest.close()
