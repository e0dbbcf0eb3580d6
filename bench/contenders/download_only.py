"""Download only: a plain sequential httpx loop over the pages, no JSON parsing.

The ceiling any sync can reach against this server from one connection: it fetches pages
1..ceil(N/100) and the empty page after them, and counts bytes. It does not parse the bodies;
the records it reports are pages x page size, checked by the empty last page.
"""

from __future__ import annotations

import math
import time

import httpx
from _common import ITEMS_PATH, PAGE_SIZE, emit, parse_args


def main() -> None:
    args = parse_args(__doc__ or "")
    pages = math.ceil(args.records / PAGE_SIZE)
    headers = {"Authorization": f"Bearer {args.token}"}
    started = time.perf_counter()
    total_bytes = 0
    with httpx.Client(base_url=args.base_url, headers=headers, timeout=30.0) as client:
        for page in range(1, pages + 2):  # bounded: the data pages and one empty page
            response = client.get(ITEMS_PATH, params={"page": page, "limit": PAGE_SIZE})
            response.raise_for_status()
            body = response.content
            total_bytes += len(body)
    seconds = time.perf_counter() - started
    # The page after the last one must be empty, or the server holds more than N records.
    last_empty = b'"data":[]' in body.replace(b" ", b"")
    emit(
        {
            "records": pages * PAGE_SIZE if last_empty else -1,
            "seconds": seconds,
            "requests": pages + 1,
            "bytes": total_bytes,
            "note": "" if last_empty else "page after the last was not empty",
        }
    )


if __name__ == "__main__":
    main()
