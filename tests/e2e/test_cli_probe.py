"""`restsync check --probe` says what restsync decided from page 1 and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from restsync.cli.main import cli
from restsync.cli.probe import cursor_candidates, selector_of, suggest_primary_key


def probe(config: Path) -> Any:
    return CliRunner().invoke(cli, ["check", str(config), "--probe"], catch_exceptions=False)


def test_an_auto_detected_paginator_and_the_layout(tmp_path: Path, sandbox_env: Any) -> None:
    sb = sandbox_env("inventory")
    cfg = tmp_path / "inv.yaml"
    cfg.write_text(
        "client:\n"
        f"  base_url: {sb.base_url}\n"
        "  auth: {type: bearer, token: '${secrets.api_key}'}\n"
        "resources:\n"
        "  - name: sales_orders\n"
        "    endpoint: {path: v1/sales_orders}\n"
        "  - name: customers\n"
        "    endpoint: {path: v1/customers}\n"
        "  - name: customer_addresses\n"
        "    endpoint:\n"
        "      path: v1/customer_addresses\n"
        "      params: {customer_id: '{resources.customers.id}'}\n"
    )
    result = probe(cfg)
    assert result.exit_code == 0, result.output
    text = result.output.split("probe:", 1)[1]
    orders = text.split("- customers:", 1)[0]
    assert (
        "paginator: page_number, auto-detected: the body has a page count at 'total_pages'; "
        "page 1 says 2 pages; more pages follow"
    ) in orders
    assert "page base: 1" in orders
    assert "data_selector: 'data' (auto)" in orders
    assert "table sales_orders: id bigint" in orders
    assert "table sales_orders__sales_order_rows (child of sales_orders):" in orders
    assert "primary_key: id (suggested: present and unique on this page)" in orders
    assert "incremental cursor candidates: updated_at (timestamps; the name says" in orders
    # a child resource is probed for its parent's first record
    assert "- customer_addresses: " in text
    assert "(for the first record of 'customers')" in text
    assert "customer_id=1" in text
    assert sb.secrets["api_key"] not in result.output


def test_a_configured_paginator_and_key(sandbox_env: Any) -> None:
    sb = sandbox_env("ecommerce")
    result = CliRunner().invoke(
        cli, ["check", "ecommerce", "--base-url", sb.base_url, "--probe"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "paginator: offset, configured: page 1 matches it; page 1 says 230 records" in (
        result.output
    )
    assert "primary_key: id (configured)" in result.output
    assert "data_selector: 'data' (configured)" in result.output


def test_the_pure_steps() -> None:
    records = [
        {"id": 1, "sku": "a", "createdAt": "2024-01-01T00:00:00Z", "lastModified": 1700000000},
        {"id": 2, "sku": "a", "createdAt": "2024-01-02T00:00:00Z", "lastModified": 1700000100},
    ]
    assert suggest_primary_key(records) == ["id"]
    assert suggest_primary_key([{"order_id": 5, "n": 1}, {"order_id": 6, "n": 2}]) == ["order_id"]
    assert suggest_primary_key([{"id": 1}, {"id": 1}]) == []  # not unique: no suggestion
    assert [name for name, _ in cursor_candidates(records)] == ["lastModified", "createdAt"]
    assert cursor_candidates([{"count": 1700000000}]) == []  # a number by its name only
    assert selector_of({"meta": {}, "result": {"items": records}}, records) == "result.items"
    assert selector_of(records, records) is None
