"""Rate limits: the sandbox allows R requests per second per credential and answers 429 above
it; restsync's host throttle must converge to at most R with few 429s, with concurrent
resources and with parent-child fan-out. The figures (requests, 429s, rates) are recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from restsync.sandbox import Faults

from .conftest import LONG, Figures, fast_config, run_config


def _max_rate(times: list[float], window: float = 1.0) -> int:
    """The most requests in any `window` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _report(figures: Figures, label: str, sb: Any, rate: float) -> tuple[int, int, int, int]:
    log = [e for e in sb.requests if e.resource is not None]
    times = sorted(e.time for e in log)
    n429 = sum(1 for e in log if e.status == 429)
    first429 = min((e.time for e in log if e.status == 429), default=times[0])
    settled = [t for t in times if t >= first429 + 2.0]
    steady = _max_rate(settled) if settled else 0
    ok_rate = _max_rate(sorted(e.time for e in log if e.status == 200))
    figures.add(f"rate limit {label}: R", int(rate))
    figures.add(f"rate limit {label}: requests", len(log))
    figures.add(f"rate limit {label}: 429s", n429)
    figures.add(f"rate limit {label}: max sent/s after convergence", steady)
    figures.add(f"rate limit {label}: max served/s", ok_rate)
    print(f"{label}: R={rate} requests={len(log)} 429s={n429} steady-max/s={steady}")
    return len(log), n429, steady, ok_rate


@pytest.mark.parametrize(
    ("name", "records", "rate"),
    [("inventory", 120 if LONG else 60, 20.0), ("commerce", 600 if LONG else 300, 10.0)],
)
def test_concurrent_resources_converge_to_the_limit(
    tmp_path: Path, sandbox: Any, figures: Figures, name: str, records: int, rate: float
) -> None:
    sb = sandbox(name, records=records, faults=Faults(rate_limit=rate, retry_after=1))
    config = fast_config(name, sb.base_url, max_retries=8)
    info = run_config(tmp_path, name, config)
    assert not info.failed_resources, str(info)
    for res in config["resources"]:
        assert info.resources[res["name"]].records == len(sb.expected(res["name"]))
    total, n429, steady, _ = _report(
        figures, f"{name} ({len(config['resources'])} resources)", sb, rate
    )
    assert n429 <= max(5, total // 10), f"{n429} 429s in {total} requests"
    assert steady <= rate * 1.1 + 1, f"{steady} requests/s after convergence, limit {rate}"


def test_parent_child_fan_out_converges_to_the_limit(
    tmp_path: Path, sandbox: Any, figures: Figures
) -> None:
    rate = 15.0
    sb = sandbox(
        "inventory",
        records={"customers": 40, "customer_addresses": 30},
        faults=Faults(rate_limit=rate, retry_after=1),
    )
    config = fast_config("inventory", sb.base_url, max_retries=8, incremental=False)
    parent = next(r for r in config["resources"] if r["name"] == "customers")
    child = next(r for r in config["resources"] if r["name"] == "customer_addresses")
    child = {
        **child,
        "name": "customer_addresses",
        "endpoint": {
            **child["endpoint"],
            "params": {"customer_ids": {"type": "resolve", "resource": "customers", "field": "id"}},
        },
        "include_from_parent": ["id"],
    }
    config["resources"] = [parent, child]
    info = run_config(tmp_path, "inventory", config)
    assert not info.failed_resources, str(info)
    assert info.resources["customer_addresses"].records == 40 * 30
    total, n429, steady, _ = _report(figures, "inventory parent-child (40 children)", sb, rate)
    assert total >= 41
    assert n429 <= max(5, total // 10), f"{n429} 429s in {total} requests"
    assert steady <= rate * 1.1 + 1, f"{steady} requests/s after convergence, limit {rate}"
