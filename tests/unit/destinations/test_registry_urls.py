"""Destination URLs and password masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from restsync.destinations._duckdb import DuckDBDestination
from restsync.destinations._parquet import ParquetDestination
from restsync.destinations._postgres import PostgresDestination
from restsync.destinations._registry import DestinationArgs, destination_from_url
from restsync.errors import ConfigError, LoadError
from restsync.util.redact import redact_url


def test_names_and_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    d = destination_from_url("duckdb", pipeline_name="shop")
    assert isinstance(d, DuckDBDestination)
    assert d.path == tmp_path / "shop.duckdb"
    d2 = destination_from_url("duckdb:///x/y.db", pipeline_name="shop")
    assert isinstance(d2, DuckDBDestination)
    assert str(d2.path) == "/x/y.db"
    for url in ("parquet:///lake", "file:///lake"):
        p = destination_from_url(url, pipeline_name="shop", dataset_name="raw")
        assert isinstance(p, ParquetDestination)
        assert p.root == Path("/lake/raw")
    pg = destination_from_url("postgres://u:hunter22@h:5432/db", pipeline_name="shop")
    assert isinstance(pg, PostgresDestination)
    assert "hunter22" not in repr(pg)
    assert pg.url == "postgresql://***@h:5432/db"  # user info masked whole, as in every URL


def test_unknown_destination_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean 'duckdb'"):
        destination_from_url("duckbd:///x", pipeline_name="p")


def test_password_never_in_messages() -> None:
    assert redact_url("postgresql://u:s3cr3t@127.0.0.1:1/db") == "postgresql://***@127.0.0.1:1/db"
    args = DestinationArgs("p", "d", Path("."), credentials="topsecret")
    assert "topsecret" not in repr(args)
    dest = destination_from_url(
        "postgresql://u:s3cr3tpw@127.0.0.1:1/db", pipeline_name="p", credentials="other"
    )
    with pytest.raises(LoadError) as err:
        dest.open()
    assert "s3cr3tpw" not in str(err.value)
    assert "***" in str(err.value)
