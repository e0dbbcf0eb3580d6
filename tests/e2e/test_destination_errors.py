"""A destination that cannot hold the load says what and how to fix, before any request
where it can: a Parquet folder that cannot be created, a DuckDB file whose folder cannot be
written (exit 3, with a message that does not blame another run), a Postgres dataset named
`pg_*` (refused before any request), a NUL character for Postgres (resource, table, column
and row named; nothing loaded)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest
from click.testing import CliRunner

from restsync import rest_api_source
from restsync.cli.main import cli
from restsync.destinations._duckdb import DuckDBDestination, open_error
from restsync.errors import ConfigError, LoadError
from restsync.pipeline import Pipeline

from .dest_helpers import query, tables


def _config_file(tmp_path: Path) -> Path:
    path = tmp_path / "api.json"
    path.write_text(
        orjson.dumps(
            {
                "client": {"base_url": "http://127.0.0.1:9/"},  # nothing listens there
                "resources": [{"name": "items", "endpoint": {"path": "items"}}],
            }
        ).decode()
    )
    return path


def test_parquet_folder_that_cannot_be_created_exits_3_with_a_clear_message(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(
        cli,
        ["run", str(_config_file(tmp_path)), "--destination", f"parquet:///{blocker}/lake"],
        catch_exceptions=False,
    )
    assert result.exit_code == 3, result.output
    assert "parquet: cannot create the folder" in result.output
    assert "check the path and its permissions" in result.output
    assert "Traceback" not in result.output


def test_duckdb_in_a_folder_that_cannot_be_written_exits_3_without_blaming_a_lock(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(
        cli,
        [
            "run",
            str(_config_file(tmp_path)),
            "--destination",
            f"duckdb:///{blocker}/sub/x.duckdb",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 3, result.output
    assert "cannot create the folder" in result.output
    assert "another restsync run" not in result.output


def test_duckdb_open_errors_are_told_apart(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    denied = open_error(path, duckdb.IOException(f'Cannot open file "{path}": Permission denied'))
    assert "permissions" in denied
    assert "another restsync run" not in denied
    locked = open_error(
        path, duckdb.IOException(f'Could not set lock on file "{path}": Conflicting lock is held')
    )
    assert "another restsync run or a DuckDB client holds the file" in locked
    # (the suite may run as root, which writes anywhere: a folder in place of the file is
    # the portable way to make DuckDB itself refuse to open it)
    (tmp_path / "d.duckdb").mkdir()
    dest = DuckDBDestination(tmp_path / "d.duckdb", "ds")
    with pytest.raises(LoadError, match="duckdb: cannot open"):
        dest.open()


def _serve(records: list[dict[str, Any]]) -> tuple[httpx.MockTransport, list[int]]:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, content=orjson.dumps(records))

    return httpx.MockTransport(handler), calls


def _source() -> Any:
    return rest_api_source(
        {
            "client": {"base_url": "http://api.test/", "paginator": "single_page"},
            "resources": [{"name": "items", "endpoint": {"path": "items"}, "primary_key": "id"}],
        }
    )


@pytest.mark.postgres
def test_postgres_pg_dataset_is_refused_before_any_request(
    postgres_url: str, tmp_path: Path
) -> None:
    transport, calls = _serve([{"id": 1}])
    pipe = Pipeline("pg_stats", postgres_url, pipelines_dir=tmp_path, transport=transport)
    with pytest.raises(ConfigError, match="starts with 'pg_'"):
        pipe.run(_source())
    assert calls == []
    long = Pipeline("x", postgres_url, "d" * 64, pipelines_dir=tmp_path, transport=transport)
    with pytest.raises(ConfigError, match="63-byte"):
        long.run(_source())
    assert calls == []


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["text", "json"])
def test_postgres_nul_character_names_the_column_and_loads_nothing(
    postgres_url: str, tmp_path: Path, where: str
) -> None:
    dataset = f"nul_{uuid.uuid4().hex[:8]}"
    value: Any = "a\x00b" if where == "text" else {"k": "a\x00b"}
    records = [{"id": 1, "note": "fine"}, {"id": 2, "note": value}]
    transport, _calls = _serve(records)
    pipe = Pipeline("nul", postgres_url, dataset, pipelines_dir=tmp_path, transport=transport)
    source = rest_api_source(
        {
            "client": {"base_url": "http://api.test/", "paginator": "single_page"},
            "resources": [
                {
                    "name": "items",
                    "endpoint": {"path": "items"},
                    "primary_key": "id",
                    "columns": {"note": {"data_type": "json"}} if where == "json" else {},
                }
            ],
        }
    )
    with pytest.raises(LoadError) as err:
        pipe.run(source)
    text = str(err.value)
    assert "resource 'items', table 'items', column 'note'" in text
    assert "NUL character" in text
    assert "id=2" in text
    assert "items" not in tables(postgres_url, dataset)
    # and DuckDB stores the same value as it came
    duck = f"duckdb:///{tmp_path / 'd.duckdb'}"
    transport, _calls = _serve(records)
    Pipeline("nul", duck, dataset, pipelines_dir=tmp_path, transport=transport).run(
        rest_api_source(
            {
                "client": {"base_url": "http://api.test/", "paginator": "single_page"},
                "resources": [
                    {"name": "items", "endpoint": {"path": "items"}, "primary_key": "id"}
                ],
            }
        )
    )
    assert len(query(duck, dataset, "SELECT * FROM {t:items}")) == 2
