"""Latency-bound scenario, the floor: the inventory connector's 200 pages, downloaded only.

The same requests restsync makes (each of the 20 resources' paths, pages 1..10 of 50, the
bearer token), four in flight over aiohttp's pool (restsync's default per host), bodies read
and counted, never parsed or stored. What any client with that concurrency needs against a
server that adds the latency to every response; restsync's time beyond it is its own work.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from _common import emit, parse_args

IN_FLIGHT = 4
PAGES = 10
LIMIT = 50


async def fetch_all(base_url: str, token: str, paths: list[str]) -> tuple[int, int]:
    headers = {"Authorization": f"Bearer {token}"}
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for page in range(1, PAGES + 1):
        for path in paths:
            queue.put_nowait((path, page))
    total = requests = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal total, requests
        while not queue.empty():
            path, page = queue.get_nowait()
            params = {"page": page, "limit": LIMIT}
            async with session.get(base_url + path, params=params) as response:
                response.raise_for_status()
                total += len(await response.read())
                requests += 1

    async with aiohttp.ClientSession(headers=headers) as session:
        await asyncio.gather(*(worker(session) for _ in range(IN_FLIGHT)))
    return total, requests


def main() -> None:
    args = parse_args(__doc__ or "")
    import os

    os.environ.setdefault("API_KEY", args.token)  # the connector's config reads it
    from restsync.connectors import connector_source

    source = connector_source("inventory", base_url=args.base_url)
    paths = [str(p.endpoint["path"]) for p in source.plans]
    started = time.perf_counter()
    total_bytes, requests = asyncio.run(fetch_all(args.base_url, args.token, paths))
    seconds = time.perf_counter() - started
    emit({"records": 0, "seconds": seconds, "requests": requests, "bytes": total_bytes})


if __name__ == "__main__":
    main()
