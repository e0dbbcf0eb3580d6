"""restsync's DuckDB connection runs under a memory cap, which the environment can change."""

from __future__ import annotations

from pathlib import Path

import pytest

from restsync.destinations.duckdb import MEMORY_LIMIT, DuckDBDestination
from restsync.errors import LoadError


def _limit(dest: DuckDBDestination) -> str:
    rows = dest.con.execute("SELECT current_setting('memory_limit')").fetchall()
    return str(rows[0][0])


def test_the_connection_is_capped_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", raising=False)
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    dest.open()
    try:
        assert MEMORY_LIMIT == "256MB"
        assert _limit(dest).replace(" ", "") in {"256.0MiB", "244.1MiB", "256MB"}
    finally:
        dest.close()


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
    assert capped.replace(" ", "") in {"953.6MiB", "1.0GiB", "1GB"}
    assert default != capped


def test_a_bad_cap_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTSYNC_DUCKDB_MEMORY_LIMIT", "lots")
    dest = DuckDBDestination(tmp_path / "d.duckdb", "shop")
    with pytest.raises(LoadError, match=r"RESTSYNC_DUCKDB_MEMORY_LIMIT='lots': DuckDB refused"):
        dest.open()
    # the file is not left locked by the refused connection
    monkeypatch.delenv("RESTSYNC_DUCKDB_MEMORY_LIMIT")
    dest.open()
    dest.close()
