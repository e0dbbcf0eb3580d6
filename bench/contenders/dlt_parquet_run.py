"""dlt end to end into DuckDB with its Parquet loader (`loader_file_format="parquet"`).

Same config and settings as `dlt_run.py`; only the load file format differs.
"""

from __future__ import annotations

from _common import emit, parse_args
from dlt_run import run


def main() -> None:
    args = parse_args(__doc__ or "")
    emit(run(args.base_url, args.token, args.out, loader_file_format="parquet"))


if __name__ == "__main__":
    main()
