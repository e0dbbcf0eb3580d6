"""Download only: a plain sequential httpx loop over the pages, no JSON parsing.

The ceiling any sync can reach against this server from one connection: it fetches pages
1..ceil(N/100) and the empty page after them, and counts bytes. It does not parse the bodies;
the records it reports are pages x page size, checked by the empty last page.
"""

from __future__ import annotations

import math
import time

import httpx
from _common import ITEMS_PATH, PAGE_SIZE, emit_download, parse_args


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
    emit_download(pages, time.perf_counter() - started, total_bytes, body)


if __name__ == "__main__":
    main()
