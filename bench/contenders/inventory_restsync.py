"""Latency-bound scenario, restsync: the built-in inventory connector (20 resources) into DuckDB.

The token comes the connector's way, from the env variable API_KEY (`restsync.secrets`);
`--token` is exported there. Prints the rows loaded over the 20 root tables.
"""

from __future__ import annotations

import os
import shutil
import time

from _common import emit, parse_args


def main() -> None:
    args = parse_args(__doc__ or "")
    os.environ["API_KEY"] = args.token
    import restsync
    from restsync.connectors import connector_source
    from restsync.connectors.inventory import RESOURCE_NAMES

    db_path = args.out / "inventory_restsync.duckdb"
    db_path.unlink(missing_ok=True)
    pipelines_dir = args.out / "pipelines"
    shutil.rmtree(pipelines_dir, ignore_errors=True)
    started = time.perf_counter()
    source = connector_source("inventory", base_url=args.base_url)
    pipeline = restsync.pipeline(
        "bench_inventory",
        destination=f"duckdb:///{db_path}",
        dataset_name="inventory_data",
        pipelines_dir=pipelines_dir,
    )
    info = pipeline.run(source)
    seconds = time.perf_counter() - started
    if info.has_failures:
        raise RuntimeError(f"restsync reported failed resources: {info.failed_resources}")
    records = sum(t.inserted for name, t in info.tables.items() if name in RESOURCE_NAMES)
    emit(
        {
            "records": records,
            "seconds": seconds,
            "db": str(db_path),
            "schema": "inventory_data",
            "tables": list(RESOURCE_NAMES),
        }
    )


if __name__ == "__main__":
    main()
