"""Latency-bound scenario, dlt: the inventory connector's config adapted to dlt's dialect.

restsync's connector config (without restsync's incremental additions, which dlt would want an
initial value for) with the token as a plain string and each page-number paginator told the
first page is 1 and where the sandbox puts its page count (`total_pages`). dlt's defaults
otherwise (merge on `id`, as the seed says).
"""

from __future__ import annotations

import os
import shutil
import time

from _common import emit, parse_args


def main() -> None:
    args = parse_args(__doc__ or "")
    os.environ["API_KEY"] = args.token
    import dlt
    from dlt.sources.rest_api import rest_api_source

    from restsync.connectors import connector_config
    from restsync.connectors.inventory import RESOURCE_NAMES

    config = connector_config("inventory", base_url=args.base_url, incremental=False)
    config["client"]["auth"]["token"] = str(args.token)
    for resource in config["resources"]:
        paginator = resource["endpoint"]["paginator"]
        limit = paginator.pop("limit", None)
        paginator.pop("limit_param", None)
        paginator.update({"base_page": 1, "total_path": "total_pages"})
        if limit is not None:
            resource["endpoint"].setdefault("params", {})["limit"] = limit
    db_path = args.out / "inventory_dlt.duckdb"
    db_path.unlink(missing_ok=True)
    pipelines_dir = args.out / "dlt_pipelines"
    shutil.rmtree(pipelines_dir, ignore_errors=True)
    started = time.perf_counter()
    source = rest_api_source(config)  # type: ignore[arg-type, unused-ignore]
    pipeline = dlt.pipeline(
        pipeline_name="bench_inventory_dlt",
        destination=dlt.destinations.duckdb(str(db_path)),
        dataset_name="inventory_data",
        pipelines_dir=str(pipelines_dir),
    )
    pipeline.run(source)
    seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    trace = pipeline.last_trace
    if trace is not None and trace.last_normalize_info is not None:
        counts = dict(trace.last_normalize_info.row_counts)
    emit(
        {
            "records": sum(counts.get(n, 0) for n in RESOURCE_NAMES),
            "seconds": seconds,
            "db": str(db_path),
            "schema": "inventory_data",
            "tables": list(RESOURCE_NAMES),
        }
    )


if __name__ == "__main__":
    main()
