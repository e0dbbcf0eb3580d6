"""Sporadic 429s: a sync of the commerce sandbox, clean and with 5 % of requests answered 429.

A 429 that comes whatever the request rate (`Retry-After: 1`) should cost its Retry-After and
no more. The bound a run can reach is the clean run's time plus one Retry-After per 429 (a
429 pauses the host; 429s of requests in flight together share one pause, so a run can beat
it). The script runs restsync against a sandbox in its own process, clean then faulted, each
`--rounds` times, and prints the figures as a Markdown table:

    .venv/bin/python bench/sporadic_429.py                   # 600 pages, 3 rounds
    PYTHONPATH=/path/to/other/src .venv/bin/python bench/sporadic_429.py   # another checkout

Each run starts with a fresh DuckDB file and no stored state (a full sync).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import restsync
from restsync.connectors import connector_config
from restsync.extract._source import RestApiSource
from restsync.pipeline import Pipeline
from restsync.sandbox import Faults, Sandbox

NAME = "commerce"
RESOURCES = 6
PAGE_SIZE = 50  # the commerce sandbox's page size


def run_once(records: int, faults: Faults | None, workdir: Path) -> dict[str, Any]:
    """One full sync of the sandbox; wall seconds, pages, requests and 429s."""
    sb = Sandbox.start_process(NAME, records=records, faults=faults)
    try:
        os.environ.update(sb.env())
        config = connector_config(NAME, base_url=sb.base_url, incremental=False)
        for res in config["resources"]:
            res["endpoint"]["error_handler"] = {"max_retries": 10}
        source = RestApiSource(config, name=NAME)
        pipeline = Pipeline(
            NAME,
            f"duckdb:///{workdir / 'commerce.duckdb'}",
            "commerce_data",
            pipelines_dir=workdir / "pipelines",
        )
        started = time.perf_counter()
        info = pipeline.run(source)
        seconds = time.perf_counter() - started
        stats = sb.stats()
    finally:
        sb.stop()
    if info.failed_resources:
        raise SystemExit(f"the run failed: {info.failed_resources}")
    return {
        "seconds": seconds,
        "pages": sum(r.pages for r in info.resources.values()),
        "rows": sum(r.records for r in info.resources.values()),
        "requests": stats.get("requests", 0),
        "429s": stats.get("status_429", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=600, help="pages in all (default 600)")
    parser.add_argument("--share", type=float, default=0.05, help="share of 429s (0.05)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    records = args.pages // RESOURCES * PAGE_SIZE
    load = os.getloadavg()
    print(
        f"restsync {restsync.__file__}; Python {platform.python_version()};"
        f" {os.cpu_count()} CPUs; load average {load[0]:.2f} at start",
        file=sys.stderr,
    )
    rows: list[tuple[str, dict[str, Any]]] = []
    for round_ in range(1, args.rounds + 1):
        for label, faults in (
            ("clean", None),
            (f"429 on {args.share:.0%}", Faults(rate_429=args.share, retry_after=1, seed=round_)),
        ):
            with tempfile.TemporaryDirectory(prefix="restsync-429-") as tmp:
                result = run_once(records, faults, Path(tmp))
            rows.append((label, result))
            print(f"round {round_} {label}: {result}", file=sys.stderr)
    clean = statistics.median(r["seconds"] for label, r in rows if label == "clean")
    print(
        "| run | pages | rows | requests | 429s | wall s | bound s (clean + 429s x 1 s) | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        bound = clean + r["429s"] * 1.0
        ratio = r["seconds"] / bound
        print(
            f"| {label} | {r['pages']} | {r['rows']} | {r['requests']} | {r['429s']} |"
            f" {r['seconds']:.1f} | {bound:.1f} | {ratio:.2f} |"
        )
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
