"""Download only, four requests in flight: aiohttp, no JSON parsing.

restsync fetches up to `max_concurrency` (4) pages at once once the API has given a page
count, so its own floor is this one rather than one connection's: the same pages as
`download_only.py` (1..ceil(N/100) and the empty page after them), four in flight over
aiohttp's pool, bodies read and counted, never parsed.
"""

from __future__ import annotations

import asyncio
import math
import time

import aiohttp
from _common import ITEMS_PATH, PAGE_SIZE, emit_download, parse_args

IN_FLIGHT = 4


async def fetch_all(base_url: str, token: str, pages: int) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for page in range(1, pages + 2):
        queue.put_nowait(page)
    total = 0
    last = b""

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal total, last
        while not queue.empty():
            page = queue.get_nowait()
            params = {"page": page, "limit": PAGE_SIZE}
            async with session.get(base_url + ITEMS_PATH, params=params) as response:
                response.raise_for_status()
                body = await response.read()
            total += len(body)
            if page == pages + 1:
                last = body

    async with aiohttp.ClientSession(headers=headers) as session:
        await asyncio.gather(*(worker(session) for _ in range(IN_FLIGHT)))
    return total, last


def main() -> None:
    args = parse_args(__doc__ or "")
    pages = math.ceil(args.records / PAGE_SIZE)
    started = time.perf_counter()
    total_bytes, last = asyncio.run(fetch_all(args.base_url, args.token, pages))
    emit_download(pages, time.perf_counter() - started, total_bytes, last)


if __name__ == "__main__":
    main()
