"""restsync end to end into PostgreSQL (rows by COPY): the same config as `restsync_run.py`.

The server is the bench's own (started by `bench/run.py` on loopback); its URL comes in the
env variable RESTSYNC_BENCH_PG_URL. The dataset schema is dropped first, so every run loads
into empty tables.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from _common import DATASET, TABLE, emit, parse_args
from restsync_run import bench_config


def run(base_url: str, token: str, out: Path, url: str) -> dict[str, Any]:
    import psycopg

    import restsync

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{DATASET}" CASCADE')
    pipelines_dir = out / "pipelines"
    shutil.rmtree(pipelines_dir, ignore_errors=True)
    started = time.perf_counter()
    source = restsync.rest_api_source(bench_config(base_url, token))
    pipeline = restsync.pipeline(
        "bench_restsync_pg", destination=url, dataset_name=DATASET, pipelines_dir=pipelines_dir
    )
    info = pipeline.run(source)
    seconds = time.perf_counter() - started
    if info.has_failures:
        raise RuntimeError(f"restsync reported failed resources: {info.failed_resources}")
    inserted = info.tables[TABLE].inserted if TABLE in info.tables else -1
    return {"records": inserted, "seconds": seconds, "db": url, "schema": DATASET, "table": TABLE}


def main() -> None:
    args = parse_args(__doc__ or "")
    emit(run(args.base_url, args.token, args.out, os.environ["RESTSYNC_BENCH_PG_URL"]))


if __name__ == "__main__":
    main()
