"""What every contender shares: its command line and the one JSON line it prints.

Each contender is a standalone script run as its own process by `bench/run.py`:

    python bench/contenders/<name>.py --base-url URL --token TOKEN --records N --out DIR

It loads N records from the sandbox's `GET /v1/items` and prints, as its last stdout line,
a JSON object with at least `records` (what it says it loaded) and `seconds` (the timed part:
from before the first request to after the last row is committed; imports and interpreter
start are outside it, the harness measures those in the process wall time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PAGE_SIZE = 100
ITEMS_PATH = "/v1/items"
DATASET = "bench_data"
TABLE = "items"


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--base-url", required=True, help="sandbox origin, e.g. http://127.0.0.1:PORT"
    )
    parser.add_argument("--token", required=True, help="bearer token of the sandbox")
    parser.add_argument("--records", type=int, required=True, help="records the sandbox serves")
    parser.add_argument("--out", type=Path, required=True, help="directory for this run's files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def emit(result: dict[str, Any]) -> None:
    """Print the result line (the harness reads the last line of stdout)."""
    sys.stdout.write(json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def emit_download(pages: int, seconds: float, total_bytes: int, last_body: bytes) -> None:
    """The result line of a download-only contender: the page after the last (`last_body`)
    must be empty, or the server holds more than N records."""
    last_empty = b'"data":[]' in last_body.replace(b" ", b"")
    emit(
        {
            "records": pages * PAGE_SIZE if last_empty else -1,
            "seconds": seconds,
            "requests": pages + 1,
            "bytes": total_bytes,
            "note": "" if last_empty else "page after the last was not empty",
        }
    )
