"""`restsync show` reads only: it never creates a database, lists what a destination holds,
and names the pipelines and datasets that exist when asked for one that does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from restsync.cli.main import EXIT_CONFIG, cli
from restsync.connectors import connector_source
from restsync.pipeline import Pipeline


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def load(tmp_path: Path, sb: Any, name: str, url: str, dataset: str | None = None) -> None:
    source = connector_source("fulfillment", base_url=sb.base_url)
    info = Pipeline(name, url, dataset, pipelines_dir=tmp_path / "pipelines").run(source)
    assert info.loaded
    assert not info.has_failures


@pytest.fixture
def loaded(tmp_path: Path, sandbox_env: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`shop.duckdb` in the working directory, holding pipeline 'shop' (dataset shop_data)."""
    monkeypatch.chdir(tmp_path)
    sb = sandbox_env("fulfillment")
    db = tmp_path / "shop.duckdb"
    load(tmp_path, sb, "shop", f"duckdb:///{db}")
    return db


def test_an_unknown_pipeline_is_an_error_naming_those_there(loaded: Path) -> None:
    result = invoke("show", "--pipeline", "typo")
    assert result.exit_code == EXIT_CONFIG, result.output
    assert not (loaded.parent / "typo.duckdb").exists()
    assert "no database file" in result.output
    assert "pipeline 'shop'" in result.output
    assert "shop.duckdb" in result.output


def test_an_unknown_pipeline_in_a_named_destination(loaded: Path) -> None:
    result = invoke("show", "--destination", f"duckdb:///{loaded}", "--pipeline", "typo")
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "no pipeline 'typo' here; found: dataset 'shop_data': pipeline 'shop'" in (result.output)


def test_a_missing_file_is_not_created(tmp_path: Path, loaded: Path) -> None:
    missing = tmp_path / "elsewhere" / "none.duckdb"
    result = invoke("show", "--destination", f"duckdb:///{missing}")
    assert result.exit_code == EXIT_CONFIG, result.output
    assert not missing.exists()
    assert not missing.parent.exists()


def test_without_a_pipeline_the_only_dataset_is_shown(loaded: Path) -> None:
    result = invoke("show", "--destination", f"duckdb:///{loaded}")
    assert result.exit_code == 0, result.output
    assert "pipeline 'shop', dataset 'shop_data'" in result.output
    assert "fulfillment_data" in result.output
    assert "(none)" not in result.output.split("last loads:")[0]
    # and with neither option, from the one database file in the working directory
    assert invoke("show").output == result.output


def test_without_a_pipeline_several_datasets_are_listed(
    tmp_path: Path, loaded: Path, sandbox_env: Any
) -> None:
    sb = sandbox_env("fulfillment")
    load(tmp_path, sb, "other", f"duckdb:///{loaded}", "other_data")
    result = invoke("show", "--destination", f"duckdb:///{loaded}")
    assert result.exit_code == 0, result.output
    assert "dataset 'other_data': pipeline 'other'" in result.output
    assert "dataset 'shop_data': pipeline 'shop'" in result.output
    picked = invoke("show", "--destination", f"duckdb:///{loaded}", "--pipeline", "other")
    assert picked.exit_code == 0, picked.output
    assert "pipeline 'other', dataset 'other_data'" in picked.output


def test_a_parquet_folder(tmp_path: Path, sandbox_env: Any) -> None:
    sb = sandbox_env("fulfillment")
    folder = tmp_path / "lake"
    load(tmp_path, sb, "shop", f"parquet:///{folder}", "shop_data")
    result = invoke("show", "--destination", f"parquet:///{folder}")
    assert result.exit_code == 0, result.output
    assert "pipeline 'shop', dataset 'shop_data'" in result.output
    assert "fulfillment_data" in result.output
    gone = invoke("show", "--destination", f"parquet:///{tmp_path / 'nope'}")
    assert gone.exit_code == EXIT_CONFIG
    assert not (tmp_path / "nope").exists()
