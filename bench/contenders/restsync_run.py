"""restsync end to end: `rest_api_source` + `pipeline(...).run` into a DuckDB file.

The config is the bench config in restsync's dialect, with `write_disposition: append`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from _common import DATASET, ITEMS_PATH, PAGE_SIZE, TABLE, emit, parse_args


def bench_config(base_url: str, token: str) -> dict[str, Any]:
    return {
        "client": {"base_url": base_url, "auth": {"type": "bearer", "token": token}},
        "resources": [
            {
                "name": TABLE,
                "endpoint": {
                    "path": ITEMS_PATH,
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "limit",
                        "limit": PAGE_SIZE,
                        "base_page": 1,
                    },
                },
                "primary_key": "id",
                "write_disposition": "append",
            }
        ],
    }


def run(base_url: str, token: str, out: Path) -> dict[str, Any]:
    import restsync

    db_path = out / "restsync.duckdb"
    db_path.unlink(missing_ok=True)
    pipelines_dir = out / "pipelines"
    shutil.rmtree(pipelines_dir, ignore_errors=True)
    started = time.perf_counter()
    source = restsync.rest_api_source(bench_config(base_url, token))
    pipeline = restsync.pipeline(
        "bench_restsync",
        destination=f"duckdb:///{db_path}",
        dataset_name=DATASET,
        pipelines_dir=pipelines_dir,
    )
    info = pipeline.run(source)
    seconds = time.perf_counter() - started
    if info.has_failures:
        raise RuntimeError(f"restsync reported failed resources: {info.failed_resources}")
    inserted = info.tables[TABLE].inserted if TABLE in info.tables else -1
    requests = sum(r.requests for r in info.resources.values())
    return {
        "records": inserted,
        "seconds": seconds,
        "requests": requests,
        "db": str(db_path),
        "schema": DATASET,
        "table": TABLE,
    }


def main() -> None:
    args = parse_args(__doc__ or "")
    emit(run(args.base_url, args.token, args.out))


if __name__ == "__main__":
    main()
