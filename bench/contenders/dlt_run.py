"""dlt end to end into DuckDB with its default settings (the comparison restsync is held to).

The bench config adapted to dlt's `rest_api_source`: the same resource, `append`, page size
100 sent as a query parameter; dlt's page-number paginator is told the first page is 1 and,
having no total to read, to stop at the first empty page. dlt comes from the bench extra only.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from _common import DATASET, ITEMS_PATH, PAGE_SIZE, TABLE, emit, parse_args


def dlt_config(base_url: str, token: str) -> dict[str, Any]:
    return {
        "client": {"base_url": base_url, "auth": {"type": "bearer", "token": token}},
        "resources": [
            {
                "name": TABLE,
                "endpoint": {
                    "path": ITEMS_PATH,
                    "params": {"limit": PAGE_SIZE},
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "base_page": 1,
                        "total_path": None,
                        "stop_after_empty_page": True,
                    },
                },
                "primary_key": "id",
                "write_disposition": "append",
            }
        ],
    }


def run(base_url: str, token: str, out: Path, *, loader_file_format: str | None) -> dict[str, Any]:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    suffix = loader_file_format or "default"
    db_path = out / f"dlt_{suffix}.duckdb"
    db_path.unlink(missing_ok=True)
    pipelines_dir = out / "dlt_pipelines"
    shutil.rmtree(pipelines_dir, ignore_errors=True)
    started = time.perf_counter()
    source = rest_api_source(dlt_config(base_url, token))  # type: ignore[arg-type, unused-ignore]
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_dlt_{suffix}",
        destination=dlt.destinations.duckdb(str(db_path)),
        dataset_name=DATASET,
        pipelines_dir=str(pipelines_dir),
    )
    if loader_file_format:
        pipeline.run(source, loader_file_format=loader_file_format)  # type: ignore[arg-type, unused-ignore]
    else:
        pipeline.run(source)
    seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    trace = pipeline.last_trace
    if trace is not None and trace.last_normalize_info is not None:
        counts = dict(trace.last_normalize_info.row_counts)
    return {
        "records": counts.get(TABLE, -1),
        "seconds": seconds,
        "db": str(db_path),
        "schema": DATASET,
        "table": TABLE,
        "row_counts": counts,
    }


def main() -> None:
    args = parse_args(__doc__ or "")
    emit(run(args.base_url, args.token, args.out, loader_file_format=None))


if __name__ == "__main__":
    main()
