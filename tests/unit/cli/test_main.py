"""The `restsync` command in-process, without a network or a sandbox: argument checks, exit
codes, what `init --openapi` writes and what a failed command leaves behind (nothing).

Runs against APIs are in tests/e2e/test_cli*.py."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from restsync.cli.main import EXIT_CONFIG, EXIT_OK, SANDBOX_MODULES, cli, urlparse_path

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "shop", "version": "1"},
    "servers": [{"url": "https://shop.example.com/api"}],
    "paths": {
        "/products": {
            "get": {
                "summary": "List products",
                "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer"}},
                    {"name": "per_page", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": {
                        "description": "a page",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "integer"},
                                            "name": {"type": "string"},
                                        },
                                    },
                                }
                            }
                        },
                    }
                },
            }
        }
    },
}


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each command runs in an empty folder; the CLI's log handler does not outlive the test."""
    monkeypatch.chdir(tmp_path)
    logger = logging.getLogger("restsync")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == EXIT_OK
    for command in ("run", "check", "show", "init", "connectors", "sandbox", "demo"):
        assert command in result.output


def test_version_is_the_installed_package_version() -> None:
    result = invoke("--version")
    assert result.exit_code == EXIT_OK
    assert version("restsync") in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-command"],
        ["run"],  # CONFIG is required
        ["run", "orders", "--no-such-option"],
        ["sandbox", "inventory", "--port", "not-a-number"],
    ],
)
def test_usage_errors_exit_2_and_do_nothing(args: list[str], tmp_path: Path) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.output
    assert files(tmp_path) == set()


def test_run_with_an_invalid_config_file_is_a_config_error_and_creates_nothing(
    tmp_path: Path,
) -> None:
    config = tmp_path / "api.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "client": {"base_url": "https://api.example.com"},
                "resources": [{"name": "items", "endpoint": {"path": "items", "methd": "GET"}}],
            }
        )
    )
    result = invoke("run", str(config), "--destination", f"duckdb:///{tmp_path / 'out.duckdb'}")
    assert result.exit_code == EXIT_CONFIG
    assert "methd" in result.output
    assert files(tmp_path) == {"api.yaml"}


def test_run_with_a_file_that_is_not_yaml_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "api.yaml"
    config.write_text("client: {base_url: [unclosed\n")
    result = invoke("run", str(config))
    assert result.exit_code == EXIT_CONFIG
    assert "api.yaml" in result.output
    assert files(tmp_path) == {"api.yaml"}


def test_check_prints_the_plan_of_a_config_file_without_a_request(tmp_path: Path) -> None:
    config = tmp_path / "api.json"
    config.write_text(
        json.dumps(
            {
                "client": {"base_url": "https://api.invalid", "auth": {"token": "tok-4417"}},
                "resources": [{"name": "items", "endpoint": {"path": "items"}}],
            }
        )
    )
    result = invoke("check", str(config))
    assert result.exit_code == EXIT_OK, result.output
    assert "items" in result.output
    assert "tok-4417" not in result.output
    assert files(tmp_path) == {"api.json"}


def test_show_without_a_pipeline_in_an_empty_folder_asks_for_one(tmp_path: Path) -> None:
    result = invoke("show")
    assert result.exit_code == EXIT_CONFIG
    assert "--pipeline NAME or --destination URL" in result.output
    assert "no *.duckdb file here" in result.output
    assert files(tmp_path) == set()


@pytest.mark.parametrize("args", [[], ["https://api.example.com/items", "--openapi", "s.json"]])
def test_init_wants_a_url_or_a_spec(args: list[str], tmp_path: Path) -> None:
    result = invoke("init", *args)
    assert result.exit_code == EXIT_CONFIG
    assert "give a collection URL or --openapi SPEC" in result.output
    assert files(tmp_path) == set()


def test_init_openapi_writes_a_config_check_accepts_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "shop.json").write_text(json.dumps(SPEC))
    result = invoke("init", "--openapi", "shop.json")
    assert result.exit_code == EXIT_OK, result.output
    assert "wrote shop.yaml: 1 resources (products)" in result.output
    assert "next: restsync check shop.yaml --probe" in result.output
    written = (tmp_path / "shop.yaml").read_text()
    config = yaml.safe_load(written)
    assert config["client"]["base_url"] == "https://shop.example.com/api"
    [products] = config["resources"]
    assert products["name"] == "products"
    assert products["primary_key"] == "id"
    assert products["endpoint"]["path"] == "/products"
    assert products["endpoint"]["paginator"]["type"] == "page_number"
    assert invoke("check", "shop.yaml").exit_code == EXIT_OK

    again = invoke("init", "--openapi", "shop.json")
    assert again.exit_code == EXIT_CONFIG
    assert "shop.yaml exists; give --force" in again.output
    assert (tmp_path / "shop.yaml").read_text() == written
    assert invoke("init", "--openapi", "shop.json", "--force").exit_code == EXIT_OK


def test_init_openapi_of_a_document_that_is_not_openapi_3(tmp_path: Path) -> None:
    (tmp_path / "swagger.json").write_text(json.dumps({"swagger": "2.0", "paths": {}}))
    result = invoke("init", "--openapi", "swagger.json")
    assert result.exit_code == EXIT_CONFIG
    assert "not an OpenAPI 3 document" in result.output
    assert files(tmp_path) == {"swagger.json"}


def test_urlparse_path() -> None:
    assert urlparse_path("https://h.example/v2/openapi.json?x=1") == "/v2/openapi.json"
    assert urlparse_path("specs/shop.yaml") == "specs/shop.yaml"


@pytest.mark.parametrize("module", SANDBOX_MODULES)
@pytest.mark.parametrize("args", [["demo"], ["demo", "orders"], ["sandbox", "inventory"]])
def test_sandbox_commands_without_the_extra_name_the_install_line(
    module: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import <module>` now fails
    result = invoke(*args)
    assert result.exit_code == EXIT_CONFIG
    assert "pip install 'restsync[sandbox]'" in result.output
    assert module in result.output
    assert files(tmp_path) == set()  # no demo database


def test_with_the_extra_the_demo_goes_on_to_the_connector_name(tmp_path: Path) -> None:
    result = invoke("demo", "ordres")
    assert result.exit_code == EXIT_CONFIG
    assert "restsync[sandbox]" not in result.output
    assert "orders" in result.output  # did you mean
    assert files(tmp_path) == set()
