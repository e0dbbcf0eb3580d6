"""Measure the pages/s a sandbox API serves: `.venv-bench/bin/python bench/sandbox_server.py`.

The bench API runs in its own process. Three clients fetch pages of 100 records: `http.client`
sequentially (the lightest client, so the figure is close to the server's own rate), a plain
`httpx.Client` sequentially, and an `httpx.AsyncClient` with several connections. The server's
CPU time per page is read from the process (psutil).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import psutil  # type: ignore[import-untyped]

from restsync.sandbox.server import Sandbox


def _http_client(origin: str, headers: dict[str, str], pages: int, limit: int) -> float:
    parts = urlsplit(origin)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    start = time.perf_counter()
    for page in range(1, pages + 1):
        conn.request("GET", f"/v1/items?page={page}&limit={limit}", headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    conn.close()
    return time.perf_counter() - start


def _httpx_sequential(url: str, headers: dict[str, str], pages: int, limit: int) -> float:
    with httpx.Client(headers=headers) as client:
        start = time.perf_counter()
        for page in range(1, pages + 1):
            client.get(url, params={"page": page, "limit": limit}).raise_for_status()
        return time.perf_counter() - start


async def _httpx_concurrent(
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
    """Run the measurement and print pages/s per client."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with Sandbox.start_process("bench", records=args.records) as sb:
        url = sb.base_url + "/v1/items"
        headers = {"Authorization": f"Bearer {sb.secrets['api_key']}"}
        server = psutil.Process(sb.pid)
        runs: list[tuple[str, Callable[[], float]]] = [
            (
                "http.client, sequential",
                lambda: _http_client(sb.origin, headers, args.pages, args.limit),
            ),
            (
                "httpx.Client, sequential",
                lambda: _httpx_sequential(url, headers, args.pages, args.limit),
            ),
            (
                f"httpx.AsyncClient, {args.workers} connections",
                lambda: asyncio.run(
                    _httpx_concurrent(url, headers, args.pages, args.limit, args.workers)
                ),
            ),
        ]
        for label, run in runs:
            cpu = server.cpu_times()
            elapsed = run()
            used = server.cpu_times()
            per_page = (used.user + used.system - cpu.user - cpu.system) / args.pages * 1000
            print(
                f"{label:<34} {args.pages / elapsed:7,.0f} pages/s "
                f"({args.pages * args.limit / elapsed:9,.0f} records/s); "
                f"server CPU {per_page:.2f} ms/page"
            )


if __name__ == "__main__":
    main()
