"""The sandbox in its own process, and its command line."""

from __future__ import annotations

import subprocess
import sys

import httpx

from restsync.sandbox import Faults, Sandbox


def test_start_process_serves_the_same_api() -> None:
    sb = Sandbox.start_process("inventory", records=7, faults=Faults(fail_requests={2: 503}))
    try:
        assert sb.base_url.startswith("http://127.0.0.1:")
        assert sb.resources()["shipping_fee"] == "/v1/sales_order_shipping_fee"
        assert set(sb.env()) == {"API_KEY"}
        headers = {"Authorization": f"Bearer {sb.secrets['api_key']}"}
        with httpx.Client(headers=headers) as client:
            first = client.get(sb.base_url + "/v1/customers", params={"page": 1, "limit": 50})
            second = client.get(sb.base_url + "/v1/customers", params={"page": 1, "limit": 50})
        assert first.status_code == 200
        assert first.json()["data"] == Sandbox("inventory", records=7).expected("customers")
        assert second.status_code == 503
        stats = sb.stats()
        assert stats["requests"] == 2
        assert stats["status_503"] == 1
        assert sb.config()["client"]["base_url"] == sb.base_url
    finally:
        sb.stop()


def test_command_line_rejects_a_bad_fault_spec() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "restsync.sandbox", "orders", "--faults", "dorp=0.1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "did you mean 'drop'" in result.stderr
