"""Measure how many pages per second a sandbox API serves: `python -m restsync.sandbox.bench_server`.

The API runs in its own process; a plain httpx client walks pages sequentially, then an
asyncio httpx client fetches them with several connections at once.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from restsync.sandbox.server import Sandbox


def _sequential(url: str, headers: dict[str, str], pages: int, limit: int) -> tuple[float, int]:
    size = 0
    with httpx.Client(headers=headers) as client:
        start = time.perf_counter()
        for page in range(1, pages + 1):
            response = client.get(url, params={"page": page, "limit": limit})
            response.raise_for_status()
            size += len(response.content)
        return time.perf_counter() - start, size


async def _concurrent(
    url: str, headers: dict[str, str], pages: int, limit: int, workers: int
) -> float:
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(headers=headers, limits=limits) as client:
        queue = list(range(pages, 0, -1))

        async def worker() -> None:
            while queue:
                page = queue.pop()
                response = await client.get(url, params={"page": page, "limit": limit})
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return time.perf_counter() - start


def main() -> None:
    """Run the measurement and print pages/s."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    with Sandbox.start_process("bench", records=args.records) as sb:
        url = sb.base_url + "/v1/items"
        headers = {"Authorization": f"Bearer {sb.secrets['api_key']}"}
        elapsed, size = _sequential(url, headers, args.pages, args.limit)
        print(  # noqa: T201
            f"sequential httpx.Client: {args.pages / elapsed:,.0f} pages/s "
            f"({args.pages * args.limit / elapsed:,.0f} records/s, {size / args.pages / 1024:.1f} KiB/page)"
        )
        elapsed = asyncio.run(_concurrent(url, headers, args.pages, args.limit, args.workers))
        print(  # noqa: T201
            f"concurrent httpx.AsyncClient x{args.workers}: {args.pages / elapsed:,.0f} pages/s "
            f"({args.pages * args.limit / elapsed:,.0f} records/s)"
        )


if __name__ == "__main__":
    main()
