"""The `restsync` command against a sandbox: run, check, connectors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from restsync.cli.main import cli


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_connectors_lists_the_five_seeds() -> None:
    result = invoke("connectors")
    assert result.exit_code == 0
    for name in ("fulfillment", "ecommerce", "orders", "commerce", "inventory"):
        assert name in result.output


def test_check_prints_the_plan_with_secrets_masked(sandbox_env: Any) -> None:
    sb = sandbox_env("orders")
    result = invoke("check", "orders", "--base-url", sb.base_url)
    assert result.exit_code == 0, result.output
    assert "orders" in result.output
    assert "offset" in result.output
    assert "primary_key: order_id" in result.output
    for value in sb.secrets.values():
        assert value not in result.output


def test_check_probe_fetches_page_one(sandbox_env: Any) -> None:
    sb = sandbox_env("ecommerce")
    result = invoke("check", "ecommerce", "--base-url", sb.base_url, "--probe")
    assert result.exit_code == 0, result.output
    assert "order_payments: 100 records on page 1 (more pages)" in result.output
    assert sb.secrets["api_key"] not in result.output


def test_check_probe_reports_a_missing_primary_key(sandbox_env: Any) -> None:
    from restsync.sandbox import SandboxOptions

    sb = sandbox_env("ecommerce", options=SandboxOptions(products_without_id=True))
    result = invoke("check", "ecommerce", "--base-url", sb.base_url, "--probe")
    assert result.exit_code == 1
    assert "mismatch: primary_key id missing" in result.output


def test_run_json_output_and_exit_code(tmp_path: Path, sandbox_env: Any) -> None:
    sb = sandbox_env("fulfillment")
    db = tmp_path / "f.duckdb"
    result = invoke(
        "run",
        "fulfillment",
        "--base-url",
        sb.base_url,
        "--destination",
        f"duckdb:///{db}",
        "--json",
    )
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["loaded"] is True
    assert info["resources"]["fulfillment_data"]["records"] == len(sb.expected("fulfillment_data"))
    assert sb.secrets["api_key"] not in result.output


def test_run_missing_secret_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "inventory", "--destination", f"duckdb:///{tmp_path / 'x.duckdb'}")
    assert result.exit_code == 2
    assert "missing secret 'api_key'; looked in env API_KEY" in result.output


def test_run_unknown_connector_suggests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "inventry")
    assert result.exit_code == 2
    assert "did you mean 'inventory'?" in result.output


def test_run_products_without_id_fails_that_resource_only(tmp_path: Path, sandbox_env: Any) -> None:
    from restsync.sandbox import SandboxOptions

    sb = sandbox_env("ecommerce", options=SandboxOptions(products_without_id=True))
    db = tmp_path / "e.duckdb"
    result = invoke(
        "run", "ecommerce", "--base-url", sb.base_url, "--destination", f"duckdb:///{db}"
    )
    assert result.exit_code == 1
    assert "FAILED resource 'products'" in result.output
    assert "no primary key 'id'" in result.output
    assert "product_id" in result.output  # the hint names the key the records do have
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        n = con.execute('SELECT count(*) FROM "ecommerce_data"."order_payments"').fetchone()
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema='ecommerce_data'"
            ).fetchall()
        }
    finally:
        con.close()
    assert n == (len(sb.expected("order_payments")),)
    assert "products" not in tables


def test_run_config_file_yaml(tmp_path: Path, sandbox_env: Any) -> None:
    sb = sandbox_env("inventory")
    cfg = tmp_path / "inv.yaml"
    cfg.write_text(
        "client:\n"
        f"  base_url: {sb.base_url}\n"
        "  auth: {type: bearer, token: '${secrets.api_key}'}\n"
        "resources:\n"
        "  - name: customers\n"
        "    primary_key: id\n"
        "    write_disposition: merge\n"
        "    endpoint:\n"
        "      path: /v1/customers\n"
        "      data_selector: data\n"
        "      paginator: {type: page_number, page_param: page, limit_param: limit, limit: 50}\n"
    )
    db = tmp_path / "inv.duckdb"
    result = invoke("run", str(cfg), "--destination", f"duckdb:///{db}", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["resources"]["customers"]["records"] == len(
        sb.expected("customers")
    )
